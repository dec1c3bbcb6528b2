"""A budget that holds in the trainer: 10 labels per class and a labelled batch of 100
is one full batch per pass, and a spec asking for 25 steps per epoch runs 25."""
from distlm.telemetry.trainer import TrainerTelemetry
from distlm.train.loop import Worker

from train_helpers import job


def test_ten_labels_per_class_runs_the_steps_asked_for():
    spec = job("fmnist/ce.yaml", "data.labels_per_class=10", "train.batch_size=100",
               "train.steps_per_epoch=25", "train.epochs=2")
    w = Worker(spec)
    assert (w.budget.rows, w.budget.global_batch, w.budget.batches_per_pass) == (100, 100, 1)
    assert w.budget.total_steps == w.total_steps == 50
    w.run_epoch(TrainerTelemetry(False))
    assert w.step == 25 and len(w.history["loss_supervised"]) == 25
    assert "50 steps" in w.budget.describe()
