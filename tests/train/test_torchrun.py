"""The trainer without Ray: ``torchrun -m distlm.train.torchrun`` on 2 gloo processes
trains a paper job (RAF-DB's LM SSL recipe on synthetic crops), checkpoints, and a run
cut short and resumed equals a straight one; nothing it imports needs Ray, s3fs or
TensorFlow."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from distlm.checkpoint.state import load_state
from job_smoke import REPO, tiny_overrides

pytestmark = pytest.mark.slow
TORCHRUN = Path(sys.executable).with_name("torchrun")


def _torchrun(storage: Path, *extra: str) -> subprocess.CompletedProcess:
    args = [str(TORCHRUN), "--standalone", "--nproc_per_node=2", "-m", "distlm.train.torchrun", "jobs/rafdb.yaml",
            *tiny_overrides("rafdb.yaml", 2), "scheduler.name=none", "run.keep=5", f"run.storage_path={storage}",
            *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600, env=env,
                         stdin=subprocess.DEVNULL)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    return out


def test_imports_need_no_ray_s3fs_tensorflow_or_prometheus():
    code = ("import sys\n"
            "for m in ('ray', 's3fs', 'tensorflow', 'mtcnn', 'prometheus_client'):\n"
            "    sys.modules[m] = None  # importing them fails (a GPU box has none of them)\n"
            "import distlm.train.torchrun, distlm.train.loop, distlm.losses, distlm.models\n"
            "import distlm.data.readers.parquet, distlm.data.sources\n"
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]


def test_cut_short_and_resumed_equals_straight(tmp_path):
    straight = _torchrun(tmp_path / "a", "train.epochs=2")
    metrics = json.loads(straight.stdout[straight.stdout.index("{"):])["metrics"]
    assert metrics["epoch"] == 2 and 0.0 <= metrics["test_acc"] <= 1.0
    _torchrun(tmp_path / "b", "train.epochs=1")
    resumed = _torchrun(tmp_path / "b", "train.epochs=2")
    assert "resumed from" in resumed.stderr and "at epoch 1" in resumed.stderr
    a = load_state(str(tmp_path / "a" / "rafdb-lm-ssl" / "checkpoint_000002"))
    b = load_state(str(tmp_path / "b" / "rafdb-lm-ssl" / "checkpoint_000002"))
    assert a["step"] == b["step"] > 0
    for part in ("model", "objective"):
        for k, v in a[part].items():
            torch.testing.assert_close(b[part][k], v, rtol=0, atol=0, msg=f"{part}.{k}")
    assert len(b["history"]["loss"]) == b["step"]


def test_bad_spec_is_one_line_and_exit_2(tmp_path):
    out = subprocess.run([sys.executable, "-m", "distlm.train.torchrun", "jobs/rafdb.yaml", "train.nosuch=1"],
                         cwd=REPO, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "train.nosuch" in out.stderr, out.stderr
