"""Every output of predict, evaluate and export is written whole or not at all.

Each command runs as a subprocess that is SIGKILLed at its K-th output commit
(``tests/kill_at_commit.py``): the file being written must not exist under its final
name (only a hidden temporary may remain), the outputs committed before it must be
complete, and a command that wrote in place would not be killed at all (the test
then fails on its exit status). ``atomic_local`` itself removes its temporary when
the writer raises. Predict's outputs (parts, resume) have their own tests in
``test_resume.py``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from distlm.data.fs import atomic_local

from predict_helpers import killed_at

REPO = Path(__file__).resolve().parents[2]


def _killed_at(k: int, module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return killed_at(k, module, *args, cwd=cwd)


def _final_target(out: subprocess.CompletedProcess) -> Path:
    line = [ln for ln in out.stderr.splitlines() if ln.startswith("kill_at_commit:")][-1]
    return Path(line.rsplit(" onto ", 1)[1])


def _hidden_temporaries(folder: Path):
    return [p.name for p in folder.iterdir() if p.name.startswith(".") and ".tmp-" in p.name]


def test_atomic_local_leaves_nothing_when_the_writer_raises(tmp_path):
    final = tmp_path / "out.csv"
    final.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_local(str(final)) as tmp:
            Path(tmp).write_text("half a ne")
            assert tmp.endswith(".csv") and os.path.basename(tmp).startswith(".")
            raise RuntimeError("writer failed")
    assert final.read_text() == "old\n"  # the previous file is untouched
    assert _hidden_temporaries(tmp_path) == []
    with atomic_local(str(final)) as tmp:
        Path(tmp).write_text("new\n")
    assert final.read_text() == "new\n" and _hidden_temporaries(tmp_path) == []


@pytest.mark.parametrize("which", ["onnx", "torchscript"])
def test_export_killed_mid_write_leaves_no_model(fmnist_worker, tmp_path, which):
    _, ckpt = fmnist_worker
    target = tmp_path / ("m.onnx" if which == "onnx" else "m.pt")
    args = [ckpt, str(target)] if which == "onnx" else [ckpt, "--torchscript", str(target)]
    out = _killed_at(1, "distlm.export", *args, cwd=REPO)
    assert _final_target(out) == target
    assert not target.exists()
    assert _hidden_temporaries(tmp_path), "the killed write left no temporary: it was not mid-write"


@pytest.mark.slow
def test_evaluate_killed_mid_write_leaves_no_partial_output(fmnist_worker, tmp_path):
    _, ckpt = fmnist_worker
    out_dir = tmp_path / "eval"
    job = REPO / "jobs" / "local-smoke.yaml"
    over = ["model.options={width: 8, norm: group}", "model.embedding_dim=16"]
    args = [ckpt, str(job), *over, "--out", str(out_dir), "--device", "cpu"]
    first = _final_target(_killed_at(1, "distlm.evaluate", *args, cwd=REPO))
    assert not first.exists() and not (out_dir / "metrics.json").exists()
    # killed at the last commit: every other output is whole, metrics.json is absent
    ok = subprocess.run([sys.executable, "-m", "distlm.evaluate", *args], cwd=REPO, capture_output=True,
                        text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert ok.returncode == 0, ok.stderr[-3000:]
    n = len(json.loads((out_dir / "metrics.json").read_text())["files"]) + 2  # + metrics.csv, metrics.json
    for f in out_dir.iterdir():
        f.unlink()
    last = _final_target(_killed_at(n, "distlm.evaluate", *args, cwd=REPO))
    assert last == out_dir / "metrics.json" and not last.exists()
    for png in out_dir.glob("*.png"):
        Image.open(png).verify()  # complete images
    assert (out_dir / "metrics.csv").read_text().count("\n") == 2
