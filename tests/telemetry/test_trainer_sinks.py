"""TensorBoard and MLflow sinks of the trainer: a tiny in-process training (the torchrun
entry point, one process, no Ray) with both on, read back with each tool's own reader;
rank 0 only; closed at the end; missing packages named before training."""
import importlib.util
import math
import os
import subprocess
import sys
import textwrap

import pytest

from distlm.config import SpecError
from distlm.telemetry.prometheus_sink import PrometheusSink
from distlm.telemetry.scalars import ScalarSink
from distlm.telemetry.sink import SINKS, MissingPackageError
from distlm.telemetry.sinks import check_sinks, with_absolute_paths
from distlm.telemetry.trainer import TrainerTelemetry

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "train"))
from train_helpers import REPO, job  # noqa: E402

STEPS = 8  # 2 epochs of 4 steps (train_helpers.TINY); read every 2 steps
READS = [2, 4, 6, 8]


def sink_job(root, *extra):
    return job("fmnist/ce_lm.yaml", f"telemetry.tensorboard={root}/tb",
               f"telemetry.mlflow={{tracking_uri: 'file:{root}/mlruns', experiment: tiny, run_name: r1}}",
               "train.log_every=2", "telemetry.log_every=2", *extra, storage=f"{root}/runs")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny run with both sinks on; MLflow's file store needs its opt-in since 3.x."""
    root = tmp_path_factory.mktemp("sinks")
    old = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        from distlm.train.torchrun import train

        metrics = train(sink_job(root))
    finally:
        if old is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE")
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = old
    return {"root": root, "metrics": metrics}


def test_registry_holds_the_three_sinks():
    assert SINKS.list() == ["mlflow", "prometheus", "tensorboard"]


def test_scalar_names_are_the_prometheus_names():
    """Every scalar a window or an evaluation gives is a Prometheus metric's scraped name,
    a label value after the slash."""
    exposed = {m._name + ("_total" if m._type == "counter" else "") for m in PrometheusSink().m.values()}
    sink = ScalarSink(["a", "b"])
    last = {"loss": 1.0, "loss_supervised": 0.5, "loss_aux": -0.2, "lambda1": 1.0, "lambda2": 0.5,
            "centroid_drift": 0.1, "selflabel_conf": 0.9, "selflabel_kept": 0.5}
    names = set(sink.window_scalars(step=3, epoch=0, images=10, seconds=1.0, waits=[0.1, 0.3], last=last,
                                    hist=[2, 1]))
    names |= {f"distlm_train_eval/{k}" for k in ("acc",)}
    assert {n.split("/")[0] for n in names} <= exposed
    assert {"distlm_train_loss/loss_aux", "distlm_train_lambda/lambda2", "distlm_train_selflabel_class_total/b",
            "distlm_train_data_wait_seconds/mean", "distlm_train_images_total"} <= names
    again = sink.window_scalars(step=4, epoch=0, images=10, seconds=2.0, waits=[], last={"loss": math.nan},
                                hist=[1, 0])
    assert again["distlm_train_images_total"] == 20 and again["distlm_train_selflabel_class_total/a"] == 3
    assert again["distlm_train_images_per_second"] == 5 and "distlm_train_loss/loss" not in again


def test_tensorboard_event_files_hold_the_metrics(trained):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(trained["root"] / "tb"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"distlm_train_loss/loss", "distlm_train_loss/loss_supervised", "distlm_train_loss/loss_aux",
            "distlm_train_step", "distlm_train_images_per_second", "distlm_train_images_total",
            "distlm_train_eval/acc"} <= tags
    loss = acc.Scalars("distlm_train_loss/loss")
    assert [e.step for e in loss] == READS
    assert loss[-1].value == pytest.approx(trained["metrics"]["loss"], rel=1e-6)  # stored as float32
    assert [(e.step, e.value) for e in acc.Scalars("distlm_train_step")] == [(s, float(s)) for s in READS]
    evals = acc.Scalars("distlm_train_eval/acc")
    assert [e.step for e in evals] == [4, 8]
    assert evals[-1].value == pytest.approx(trained["metrics"]["test_acc"], rel=1e-6)


def test_mlflow_run_holds_the_metrics_and_is_finished(trained, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"file:{trained['root']}/mlruns")
    (run,) = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    assert run.info.run_name == "r1" and run.info.status == "FINISHED"  # closed at the end
    loss = client.get_metric_history(run.info.run_id, "distlm_train_loss/loss")
    assert [m.step for m in loss] == READS
    assert loss[-1].value == trained["metrics"]["loss"]
    acc = client.get_metric_history(run.info.run_id, "distlm_train_eval/acc")
    assert [m.step for m in acc] == [4, 8] and acc[-1].value == trained["metrics"]["test_acc"]
    total = client.get_metric_history(run.info.run_id, "distlm_train_images_total")
    assert [m.value for m in total] == [64.0, 128.0, 192.0, 256.0]  # 32 images a step, running total


def test_only_rank_zero_gets_sinks(tmp_path):
    spec = sink_job(tmp_path)
    assert TrainerTelemetry.for_rank(spec, 1).sinks == []
    assert not (tmp_path / "tb").exists() and not (tmp_path / "mlruns").exists()


def test_a_failed_run_is_marked_failed(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient

    telemetry = TrainerTelemetry.for_rank(sink_job(tmp_path, "telemetry.tensorboard=null"), 0)
    (sink,) = telemetry.sinks
    telemetry.close(failed=True)
    telemetry.close()  # once only
    assert MlflowClient(sink.tracking_uri).get_run(sink.run_id).info.status == "FAILED"


@pytest.mark.parametrize("missing,key,pip", [("tensorboard", "telemetry.tensorboard", "pip install tensorboard"),
                                             ("mlflow", "telemetry.mlflow", "pip install mlflow-skinny")])
def test_missing_package_is_one_line_before_training(tmp_path, monkeypatch, capsys, missing, key, pip):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == missing else real(name, *a))
    spec = sink_job(tmp_path)
    with pytest.raises(MissingPackageError) as err:
        check_sinks(spec)
    assert key in str(err.value) and pip in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(MissingPackageError):
        TrainerTelemetry.for_rank(spec, 0)
    from distlm.train.__main__ import main

    args = [os.path.join(REPO, "jobs", "fmnist", "ce_lm.yaml"), "--set", f"{key}={{}}" if missing == "mlflow"
            else f"{key}={tmp_path}/tb", "--set", "data.labels_per_class=10"]
    assert main(args) == 2  # before Ray starts
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and pip in lines[0]


def test_telemetry_keys_are_checked():
    with pytest.raises(SpecError) as err:
        job("fmnist/ce_lm.yaml", "telemetry.mlflow={experiment: x, uri: y}")
    assert err.value.key == "telemetry.mlflow.uri" and "tracking_uri" in err.value.problem
    with pytest.raises(SpecError, match="local directory"):
        job("fmnist/ce_lm.yaml", "telemetry.tensorboard=s3://bucket/tb")


def test_relative_paths_are_made_absolute_for_the_workers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = with_absolute_paths(job("fmnist/ce_lm.yaml", "telemetry.tensorboard=tb",
                                   "telemetry.mlflow={tracking_uri: 'file:ml'}"))
    assert spec.telemetry.tensorboard == str(tmp_path / "tb")
    assert spec.telemetry.mlflow.tracking_uri == f"file:{tmp_path / 'ml'}"


def test_with_the_keys_unset_neither_package_is_imported(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.path.join(REPO, 'tests', 'train')!r})
        from train_helpers import job
        from distlm.train.torchrun import train
        metrics = train(job("fmnist/ce_lm.yaml", "data.test=null", storage={str(tmp_path)!r}))
        assert metrics["step"] == {STEPS}, metrics
        print("tensorboard" in sys.modules, "mlflow" in sys.modules, "torch" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-3:] == ["False", "False", "True"]
