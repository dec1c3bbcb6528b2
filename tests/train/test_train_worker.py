"""The training step and worker state without Ray: every scenario learns,
checkpoints round-trip, resume is exact, bad checkpoints and NaN losses stop
with clear errors."""
import math
import pickle

import pytest
import torch

from distlm.telemetry.trainer import TrainerTelemetry
from distlm.checkpoint.state import CheckpointError, load_state, save_state
from distlm.train.loop import NonFiniteLossError, Worker

from train_helpers import job

OFF = TrainerTelemetry(False)
SCENARIOS = {
    "supervised-ce+lm": ("fmnist/ce_lm.yaml",),
    "ssl-lm-ema": ("fmnist/lm_ssl_ema.yaml",),
    "ssl-pseudo-label": ("fmnist/pseudo_label.yaml",),
    "ssl-island": ("fmnist/island_ssl.yaml",),
    "transfer-lm-attributes": ("fmnist/lm_ssl_batch.yaml", "scenario=aus", "loss.supervised=bce",
                               "model.head=sigmoid", "data.au_ids=[1, 2, 3, 4, 5, 6, 7, 8]",
                               "selflabel.formulas=fmnist_attributes",
                               "data.labelled.options={split: train, attributes: fmnist_attributes}",
                               "data.test.options={split: test, attributes: fmnist_attributes}"),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_lowers_its_loss(name):
    spec = job(*SCENARIOS[name], "train.epochs=3", "train.steps_per_epoch=6", "loss.weighting.lambda2=0.1",
               "data.labels_per_class=30")
    w = Worker(spec)
    for _ in range(spec.train.epochs):
        w.run_epoch(OFF)
    sup = w.history["loss_supervised"]
    assert len(sup) == 18 and all(math.isfinite(v) for v in sup)
    assert sum(sup[-4:]) / 4 < sum(sup[:2]) / 2, sup
    if spec.loss.aux != "none":
        assert all(math.isfinite(v) for v in w.history["loss_aux"])
    ev = w.evaluate()
    key = "avg_full" if spec.scenario == "aus" else "acc"
    assert 0.0 <= ev[key] <= 1.0


def test_checkpoint_round_trip_and_exact_resume(tmp_path):
    spec = job("fmnist/lm_ssl_ema.yaml")
    straight = Worker(spec)
    straight.run_epoch(OFF)
    straight.run_epoch(OFF)

    first = Worker(spec)
    first.run_epoch(OFF)
    save_state(str(tmp_path), first.state())
    resumed = Worker(spec)
    resumed.load(load_state(str(tmp_path)))
    assert resumed.epoch == 1 and resumed.step == first.step
    resumed.run_epoch(OFF)
    for k, v in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[k], v, rtol=0, atol=0, msg=k)
    for k, v in straight.objective.state_dict().items():
        torch.testing.assert_close(resumed.objective.state_dict()[k], v, rtol=0, atol=0, msg=k)


class Foreign:
    pass


def test_foreign_pickle_is_refused(tmp_path):
    bad = tmp_path / "state.pt"
    torch.save({"model": Foreign()}, bad)
    with pytest.raises(CheckpointError, match="refused"):
        load_state(str(bad))
    with open(tmp_path / "plain.pt", "wb") as f:
        pickle.dump({"a": 1}, f)
    with pytest.raises(CheckpointError, match="not a distlm checkpoint"):
        load_state(str(tmp_path / "plain.pt"))
    torch.save({"model": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="no 'distlm-checkpoint' marker"):
        load_state(str(tmp_path / "other.pt"))


def test_non_finite_loss_stops_with_clear_message():
    from distlm.telemetry.trainer import TrainerTelemetry

    w = Worker(job("fmnist/ce_lm.yaml"))
    batches = iter(w.loader.epoch(0))
    w.take_step(next(batches))
    batch = next(batches)
    batch.x_l[0, 0, 0, 0] = float("nan")
    w.take_step(batch)  # nothing is read during the step
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss at epoch 0 step 2: not finite: .*loss_supervised \(on 1 of 1 workers\)"):
        w.read_metrics(TrainerTelemetry(False), 1.0)
    assert w.history["step"] == []  # the bad window is not recorded


SSL_OPTIONS = {
    "flexmatch": ("selflabel.threshold=0.9", "selflabel.threshold_policy=flexmatch"),
    "freematch": ("selflabel.threshold_policy=freematch", "loss.consistency=fixmatch",
                  "selflabel.strong_augment=strong"),
    "align-uniform": ("selflabel.alignment=uniform",),
    "ema-teacher": ("selflabel.teacher=ema", "selflabel.teacher_momentum=0.5"),
    "weak-strong": ("selflabel.strong_augment=strong", "train.augment=flip"),
    "soft-centroids": ("loss.membership=confidence",),
    "labelled-centroids": ("loss.membership=labelled",),
    "nearest-push": ("loss.push=nearest",),
    "fixmatch": ("loss.aux=fixmatch", "selflabel.threshold=0.5", "selflabel.strong_augment=strong"),
}


@pytest.mark.parametrize("name", list(SSL_OPTIONS))
def test_ssl_options_train_and_checkpoint(name, tmp_path):
    spec = job("fmnist/lm_ssl_batch.yaml", "train.epochs=1", "train.steps_per_epoch=3", *SSL_OPTIONS[name])
    w = Worker(spec)
    batch = next(iter(w.loader.epoch(0)))
    assert (batch.x_u_s is not None) == (spec.selflabel.strong_augment is not None)
    w.run_epoch(OFF)
    assert all(math.isfinite(v) for v in w.history["loss"])
    save_state(str(tmp_path), w.state())
    again = Worker(spec)
    again.load(load_state(str(tmp_path)))
    if spec.selflabel.teacher == "ema":
        for k, v in w.teacher.state_dict().items():
            torch.testing.assert_close(again.teacher.state_dict()[k], v)
        student = dict(w.model.named_parameters())
        assert any(not torch.equal(p, student[n]) for n, p in w.teacher.model.named_parameters())
    for k, v in w.objective.state_dict().items():
        torch.testing.assert_close(again.objective.state_dict()[k], v)
