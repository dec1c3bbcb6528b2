"""A ``--no-ray`` run stopped at any evaluation point continues from its snapshot with
the result of an uninterrupted run (the recommended recipe: FlexMatch thresholds,
EMA teacher, weight average, λ2 from magnitudes then held)."""
import pytest
import torch

from distlm.demo import run_in_process
from distlm.checkpoint.state import CheckpointError
from distlm.train.loop import Worker
from distlm.train.snapshot import resume_snapshot, save_snapshot

from train_helpers import job

RECIPE = ("fmnist/ssl/lm_flexmatch_mu2_teacher.yaml", "train.weight_average=0.9", "train.epochs=4",
          "loss.weighting.mode=auto", "loss.weighting.warmup_steps=2", "loss.weighting.freeze_after=6")


class Stop(Exception):
    pass


def _stop_after(n: int):
    seen = []

    def progress(step, total, metrics):
        seen.append(step)
        if len(seen) == n:
            raise Stop(step)
    return progress


@pytest.fixture(scope="module")
def straight():
    torch.set_num_threads(1)
    return run_in_process(job(*RECIPE), eval_subset=200)


def test_stopped_run_continues_to_the_uninterrupted_result(straight, tmp_path):
    spec = job(*RECIPE)
    with pytest.raises(Stop):
        run_in_process(spec, eval_subset=200, progress=_stop_after(2), state_dir=str(tmp_path))
    resumed_from, told = [], []
    rec = run_in_process(spec, eval_subset=200, state_dir=str(tmp_path),
                         progress=lambda step, total, m: resumed_from.append(step), log=told.append)
    assert told == [f"continuing from the snapshot in {tmp_path} at step {int(straight['history']['eval_step'][1])}/"
                    f"{4 * spec.train.steps_per_epoch}"]
    assert resumed_from == [straight["history"]["eval_step"][2]]   # only epoch 3's evaluation was left
    assert rec["steps"] == straight["steps"] == 4 * spec.train.steps_per_epoch
    assert rec["final"] == straight["final"]
    assert rec["final_trained"] == straight["final_trained"]
    for key in ("loss", "lambda2", "eval_step"):
        assert rec["history"][key] == straight["history"][key], key


def test_snapshot_of_another_spec_is_refused(tmp_path):
    w = Worker(job(*RECIPE))
    save_snapshot(w, str(tmp_path), {"train_s": 1.0})
    other = Worker(job(*RECIPE, "selflabel.teacher_momentum=0.5"))
    with pytest.raises(CheckpointError, match=r"different job spec \(first difference: selflabel.teacher_momentum\)"):
        resume_snapshot(other, str(tmp_path))
    assert resume_snapshot(Worker(job(*RECIPE)), str(tmp_path)) == {"train_s": 1.0}
    assert resume_snapshot(w, str(tmp_path / "empty")) == {}


def test_run_and_telemetry_sections_do_not_block_a_resume(tmp_path):
    w = Worker(job(*RECIPE, "run.name=first"))
    save_snapshot(w, str(tmp_path), {})
    resume_snapshot(Worker(job(*RECIPE, "run.name=second", "telemetry.log_every=7")), str(tmp_path))
