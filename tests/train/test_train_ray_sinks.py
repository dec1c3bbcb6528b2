"""The TensorBoard and MLflow sinks inside Ray Train: two workers, rank 0 writes, the
run is closed when ``train_loop_per_worker`` returns, relative paths land where the
driver ran."""
import pytest

from distlm.train.driver import build_trainer

from train_helpers import job

pytestmark = pytest.mark.slow


def test_two_ray_workers_write_one_tensorboard_log_and_one_finished_mlflow_run(ray_shared, tmp_path,
                                                                               monkeypatch):
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.chdir(tmp_path)  # relative paths: made absolute on this driver
    spec = job("fmnist/ce_lm.yaml", "scaling.num_workers=2", "train.log_every=2", "telemetry.log_every=2",
               "telemetry.tensorboard=tb", "telemetry.mlflow={tracking_uri: 'file:mlruns', experiment: ray}",
               "run.name=sinks", storage=str(tmp_path / "runs"))
    result = build_trainer(spec).fit()
    assert result.error is None, result.error
    logs = list((tmp_path / "tb").glob("events.out.tfevents.*"))
    assert len(logs) == 1  # rank 0 only
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("distlm_train_loss/loss")] == [2, 4, 6, 8]
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # as the workers have it (tests/conftest.py)
    client = MlflowClient(f"file:{tmp_path / 'mlruns'}")
    (run,) = client.search_runs([client.get_experiment_by_name("ray").experiment_id])
    assert run.info.run_name == "sinks" and run.info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "distlm_train_eval/acc")] == [4, 8]
