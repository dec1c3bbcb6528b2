"""Progress of long work: counts, failures, rate and ETA from an injected clock, the
live bar only on a terminal, and the trainer's line and ``progress.json``."""
import io
import json
import logging
import os
import sys
import threading

from distlm.telemetry.progress import Progress, format_duration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_rate_and_eta_count_only_the_work_done_here():
    clock = Clock()
    p = Progress("prepare", total=1000, unit="images", start_done=200, clock=clock, live=False)
    clock.t += 10.0
    p.update(400, failures=3, slice="2/10")
    assert p.rate() == 20.0 and p.eta() == 30.0
    line = p.line()
    assert line.startswith("prepare: 400/1,000 images (40.0%)")
    assert "3 failed" in line and "slice=2/10" in line and "20 images/s" in line and "ETA 30s" in line


def test_unknown_total_and_no_progress_yet():
    p = Progress("predict", total=None, unit="inputs", clock=Clock(), live=False)
    assert p.eta() is None and p.rate() is None
    assert p.line() == "predict: 0 inputs, ? inputs/s"


def test_durations():
    assert [format_duration(s) for s in (9.4, 185, 3725, None, float("inf"))] == ["9s", "3m05s", "1h02m", "?", "?"]


def test_live_bar_only_on_a_terminal():
    plain, tty = io.StringIO(), Tty()
    for stream in (plain, tty):
        p = Progress("train", total=10, unit="steps", stream=stream, clock=Clock())
        p.update(5)
        p.close()
    assert plain.getvalue() == ""
    assert tty.getvalue().startswith("\r[############............] train: 5/10 steps (50.0%)")
    assert tty.getvalue().endswith("\n")


def test_trainer_logs_step_epoch_terms_rate_and_eta(tmp_path, caplog):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "train"))
    from train_helpers import job

    from distlm.telemetry.trainer import TrainerTelemetry
    from distlm.train.loop import Worker
    from distlm.train.progress import read_progress

    spec = job("fmnist/ce.yaml", "train.log_every=2", "telemetry.log_every=2", storage=str(tmp_path))
    w = Worker(spec)
    w.write_progress = True
    with caplog.at_level(logging.INFO, logger="distlm.train"):
        w.run_epoch(TrainerTelemetry(False))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("train: ")]
    assert [ln.split(" ")[1] for ln in lines] == ["2/8", "4/8"]
    assert all("epoch=1/2" in ln and "loss_supervised=" in ln and "images/s=" in ln and "ETA " in ln
               for ln in lines), lines
    doc = read_progress(spec)
    assert doc["step"] == 4 and doc["total"] == 8 and doc["line"] == lines[-1]


def test_driver_draws_the_run_progress_as_a_bar(tmp_path):
    from distlm.config import load_job
    from distlm.train.progress import watch
    from distlm.train.run_folder import run_file

    spec = load_job(os.path.join(REPO, "jobs", "local-smoke.yaml"), [f"run.storage_path={tmp_path}"])
    path = run_file(spec, "progress.json")
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as f:
        json.dump({"step": 3, "total": 5, "epoch": 0, "fields": {"epoch": "1/1", "loss": 0.5},
                   "line": "train: 3/5 steps (60.0%), epoch=1/1, loss=0.5, 2.5 steps/s, ETA 1s"}, f)
    stream, stop = Tty(), threading.Event()
    thread = watch(spec, stop, stream=stream, every_s=0.01)
    for _ in range(500):  # poll for the first draw, bounded
        if "3/5 steps" in stream.getvalue():
            break
        stop.wait(0.01)
    stop.set()
    thread.join(timeout=5)
    assert stream.getvalue().startswith("\r[##############..........] train: 3/5 steps (60.0%), epoch=1/1, loss=0.5, "
                                        "2.5 steps/s, ETA 1s")  # rank 0's own rate and ETA, under a bar
    assert stream.getvalue().endswith("\n")
    assert watch(spec, threading.Event(), stream=io.StringIO()) is None  # not a terminal: no thread

