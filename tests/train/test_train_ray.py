"""The trainer through Ray Train (TorchTrainer, gloo, CPU workers). One Ray
session and three short Ray runs for the module (each costs ~35 s of worker start-up
on 2 cores, so what needs no Ray runs in this process), each checked for several things:

* ``straight``: 2 workers, 2 epochs, Prometheus on — checkpoint, metrics,
  evaluation history, resolved spec, and the metrics endpoint during the run;
  its epoch-1 checkpoint is ``first``;
* ``resumed``: ``first`` + ``--resume`` to 2 epochs — equal to ``straight`` bit for bit;
* ``transfer`` (attributes through the ``fmnist_attributes`` formulas), 2 workers;
* ``options``: the SSL options together (FlexMatch thresholds, distribution
  alignment, EMA teacher, weak/strong views, FixMatch-style consistency, confidence
  membership, nearest push, λ2 from magnitudes then held, μ = 2, weight average),
  2 workers, 1 epoch — equal to ``single_options``, the same in this process on 1 worker;
* in this process, no Ray: ``single``, 1 worker with the whole batch for 1 epoch —
  equal to ``first`` (2 Ray workers with half the batch each) to a float32 tolerance
  derived from the step count (``train_helpers.float32_tolerance``); and
  ``supervised`` (CE + LM on the labels only), 2 epochs, checkpointed by hand.
  ``supervised`` and ``transfer`` each lower their loss and ``distlm.evaluate``
  writes their metrics and plots.
"""
import os
import threading
import time
import urllib.request

import pytest
import torch

from distlm.telemetry.trainer import TrainerTelemetry
from distlm.checkpoint.state import AVERAGED_KEY, load_state, save_state
from distlm.train.loop import Worker
from distlm.train.driver import build_trainer, save_resolved_spec

from net_helpers import free_port
from train_helpers import float32_tolerance, job

pytestmark = pytest.mark.slow
BASE = ("fmnist/lm_ssl_ema.yaml", "scheduler.name=none", "scaling.num_workers=2")
# Every SSL option at once. The strong view is the identity (``none``): augmentations
# draw per worker, so only an augmentation-free run can equal 1 worker to rounding.
# ``ratio=200`` keeps the magnitude rule's λ2 near 0.5 in this tiny network; at 0.8 it
# sits at its cap of 100, which multiplies the float rounding of the two runs by 100.
OPTIONS = ("selflabel.threshold=0.5", "selflabel.threshold_policy=flexmatch", "selflabel.alignment=uniform",
           "selflabel.teacher=ema", "selflabel.teacher_momentum=0.5", "selflabel.strong_augment=none",
           "loss.consistency=fixmatch", "loss.membership=confidence", "loss.push=nearest",
           "loss.weighting.mode=auto", "loss.weighting.ratio=200", "loss.weighting.warmup_steps=1",
           "loss.weighting.freeze_after=3",
           "data.unlabelled_ratio=2.0", "train.batch_size=48", "train.weight_average=0.5", "train.epochs=1")


@pytest.fixture(scope="module")
def runs(ray_shared, tmp_path_factory):
    store = str(tmp_path_factory.mktemp("runs"))
    out = {"store": store, "scraped": []}

    def fit(name, *over, resume=None, base=BASE):
        spec = job(*base, f"run.name={name}", *over, storage=store)
        out[f"{name}_job"] = spec
        out[f"{name}_spec"] = save_resolved_spec(spec)
        result = build_trainer(spec, resume).fit()
        assert result.error is None, result.error
        out[name] = result
        out[f"{name}_ckpt"] = result.checkpoint.path
        out[f"{name}_state"] = load_state(result.checkpoint.path)

    port = free_port()   # chosen now, not at collection: minutes of other tests could take it
    poller = threading.Thread(target=_poll, args=(port, out["scraped"]), daemon=True)
    poller.start()
    fit("straight", "train.epochs=2", f"telemetry.metrics_port={port}")
    poller.join(timeout=5)
    first = _checkpoint_of_epoch(out["straight"], 1)
    out["first_state"] = load_state(first)
    fit("resumed", "train.epochs=2", resume=first)
    fit("transfer", "train.epochs=2", base=("fmnist/attributes/lm.yaml", "scaling.num_workers=2"))
    fit("options", *OPTIONS)
    spec = job(*BASE, "run.name=nonfinite", "optim.lr=1e30", "run.max_failures=2", "train.epochs=1",
               storage=store)
    out["nonfinite_job"] = spec
    out["nonfinite"] = build_trainer(spec).fit()
    out["single_options_state"] = _in_process(job(*BASE, *OPTIONS, "scaling.num_workers=1")).state()
    out["single_state"] = _in_process(job(*BASE, "train.epochs=1", "scaling.num_workers=1")).state()
    spec = job("fmnist/ce_lm.yaml", "train.epochs=2")
    ckpt = str(tmp_path_factory.mktemp("supervised"))
    save_state(ckpt, _in_process(spec).state())
    out.update(supervised_job=spec, supervised_ckpt=ckpt, supervised_state=load_state(ckpt))
    yield out


def _in_process(spec) -> Worker:
    """``spec`` trained for its epochs in this process (one worker, no Ray)."""
    w = Worker(spec)
    while w.epoch < spec.train.epochs:
        w.run_epoch(TrainerTelemetry(False))
    return w


def _checkpoint_of_epoch(result, epoch: int) -> str:
    """Path of the kept checkpoint ``result`` reported at the end of ``epoch``."""
    paths = [c.path for c, m in result.best_checkpoints if m.get("epoch") == epoch]
    assert paths, f"no kept checkpoint of epoch {epoch}: {[m.get('epoch') for _, m in result.best_checkpoints]}"
    return paths[0]


def _poll(port, scraped):
    deadline = time.time() + 300
    while time.time() < deadline and not scraped:
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            if "distlm_train_step " in body and "distlm_train_loss{" in body:
                scraped.append(body)
        except OSError:
            pass
        time.sleep(0.1)


def test_end_to_end_writes_checkpoint_metrics_and_spec(runs):
    result, state = runs["straight"], runs["straight_state"]
    assert os.path.exists(runs["straight_spec"])
    assert result.metrics["epoch"] == 2 and 0.0 <= result.metrics["test_acc"] <= 1.0
    # calibration and embedding geometry, computed over both workers' test shards
    assert 0.0 <= result.metrics["test_ece"] <= 1.0 and result.metrics["test_nll"] > 0.0
    m = result.metrics
    assert -1.0 <= m["test_emb_nearest_cos"] < 1.0 and 0.0 < m["test_emb_compactness"] <= 1.0
    assert m["test_emb_margin"] == pytest.approx(m["test_emb_compactness"] - m["test_emb_nearest_cos"])
    assert state["epoch"] == 2 and state["spec"]["name"] == "fmnist-lm-ssl-ema"
    assert len(state["history"]["eval"]) == 2
    assert state["objective"]["aux.centroids.present"].any()
    losses = state["history"]["loss_supervised"]
    assert sum(losses[-3:]) / 3 < losses[0]


def test_prometheus_endpoint_answered_during_the_run(runs):
    assert runs["scraped"], "no scrape of the trainer's metrics succeeded during the run"
    body = runs["scraped"][0]
    for name in ("distlm_train_images_per_second", 'distlm_train_loss{term="loss_aux"}',
                 'distlm_train_lambda{which="lambda2"}', "distlm_train_centroid_drift",
                 "distlm_train_selflabel_class_total", "distlm_train_selflabel_confidence",
                 "distlm_train_data_wait_seconds_bucket"):
        assert name in body, name


def test_resume_equals_straight_run(runs):
    straight, resumed = runs["straight_state"], runs["resumed_state"]
    assert resumed["epoch"] == 2 and resumed["step"] == straight["step"]
    for part in ("model", "objective"):
        for k, v in straight[part].items():
            torch.testing.assert_close(resumed[part][k], v, rtol=0, atol=0, msg=f"{part}.{k}")


def test_two_workers_with_half_batches_equal_one_worker(runs):
    one, two = runs["single_state"], runs["first_state"]
    assert one["step"] == two["step"] > 0
    tol = float32_tolerance(one["step"])  # the trainer runs in float32
    for part in ("model", "objective"):
        for k, v in one[part].items():
            torch.testing.assert_close(two[part][k], v, rtol=tol, atol=tol, msg=f"{part}.{k}")


def test_two_workers_equal_one_worker_with_every_ssl_option(runs):
    """The SSL options work under 2 Ray workers, with centroids, thresholds,
    alignment, λ2, teacher and weight average identical to 1 worker."""
    one, two = runs["single_options_state"], runs["options_state"]
    assert one["step"] == two["step"] == 4
    assert two["objective"]["threshold.sigma"].sum() + two["objective"]["threshold.unused"] > 0
    assert two["objective"]["aux.centroids.present"].any()
    tol = float32_tolerance(one["step"])  # the trainer runs in float32
    for part in ("model", "objective", "teacher", AVERAGED_KEY):
        assert one[part], part
        for k, v in one[part].items():
            torch.testing.assert_close(two[part][k], v, rtol=tol, atol=tol, msg=f"{part}.{k}")
    assert 0.1 < two["history"]["lambda2"][-1] < 10
    assert two["history"]["lambda2"] == pytest.approx(one["history"]["lambda2"], rel=tol)


@pytest.mark.parametrize("name", ["supervised", "transfer"])
def test_scenarios_learn_and_evaluate_with_plots(runs, name, tmp_path):
    from distlm.evaluate.run import evaluate_checkpoint

    state = runs[f"{name}_state"]
    losses = state["history"]["loss_supervised"]
    assert sum(losses[-3:]) / 3 < sum(losses[:2]) / 2, losses
    res = evaluate_checkpoint(runs[f"{name}_ckpt"], runs[f"{name}_job"], str(tmp_path))
    key = "avg_full" if name == "transfer" else "acc"
    assert 0.0 <= res["row"][key] <= 1.0
    for path in res["files"].values():
        assert os.path.getsize(path) > 1000, path
    assert ("au_f1" if name == "transfer" else "confusion") in res["files"]
    assert (tmp_path / "metrics.json").exists() and (tmp_path / "metrics.csv").exists()


def _loopback(ip: str) -> bool:
    return ip in ("127.0.0.1", "::1", "::ffff:127.0.0.1")


def test_local_ray_listens_and_advertises_loopback_only(runs):
    """The shared instance (``distlm.ray_local.start_local``, the same call as
    ``make demo`` and a local ``python -m distlm.train``) ran the Ray Train fits above;
    each of its processes listens on 127.0.0.1 only and advertises 127.0.0.1."""
    import ray
    from net_helpers import listening_sockets
    from ray._private import ray_constants

    assert ray_constants.ENABLE_RAY_CLUSTER  # restored after ray.init (ray start still adds nodes)
    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
    assert {n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]} == {"127.0.0.1"}
    listening = listening_sockets(os.getpid())
    names = {name for name, _ in listening}
    assert {"gcs_server", "raylet"} <= names, names  # the sockets of the instance were seen
    assert all(_loopback(ip) for _, ip in listening), sorted(set(listening))


def test_workers_final_evaluation_equals_a_driver_evaluation(runs):
    """``make demo`` takes its table from the 2 workers' last evaluation (sharded test
    set, synced metrics) instead of evaluating the whole test set again in the driver:
    the two must agree."""
    from distlm.checkpoint.bundle import bundle_from_state
    from distlm.demo import worker_final
    from distlm.data.sources import read_memory, test_batches
    from distlm.train.evaluate import evaluate

    spec, state = runs["straight_job"], runs["straight_state"]
    memory = read_memory(spec, False)
    n_test = len(memory.test.labels)
    final = worker_final(state["history"], int(state["step"]), n_test)
    assert final is not None and final["num_samples"] == n_test
    bundle = bundle_from_state(state, "straight run")
    driver = evaluate(bundle.model, test_batches(memory, 0, 1), spec, bundle.norm, "cpu")
    for key in ("acc", "avg_acc", "ece", "nll", "emb_margin"):
        assert final[key] == pytest.approx(float(driver[key]), abs=1e-5), key
    assert worker_final(state["history"], int(state["step"]) + 1, n_test) is None  # not the last step
    assert worker_final(state["history"], int(state["step"]), n_test + 1) is None  # not the whole set


def test_a_non_finite_loss_stops_every_worker_once_without_a_retry(runs):
    """With ``run.max_failures=2`` a deterministic NaN must not be retried as a lost
    node: the workers end normally and report why (an error would have been retried)."""
    from distlm.train.run_folder import read_stopped

    result = runs["nonfinite"]
    assert result.error is None
    stopped = read_stopped(runs["nonfinite_job"]) or ""
    assert stopped.startswith("non-finite loss at epoch 0 step "), stopped
    assert "every worker stopped at this step" in stopped
