"""``scripts/gpu-check --device cpu``: the prepared GPU check runs here too (few steps,
small crops, gloo), so it cannot rot between the sessions that have a GPU."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_cpu_form_passes(tmp_path):
    out_file = tmp_path / "gpu-check.json"
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "gpu-check"), "--device", "cpu", "--out",
                          str(out_file)], cwd=tmp_path, capture_output=True, text=True, timeout=900,
                         stdin=subprocess.DEVNULL)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    results = json.loads(out_file.read_text())
    assert results["ok"] and results["device"] == "cpu"
    for job in ("rafdb_paper", "rafdb_recommended"):
        r = results["checks"]["training"][job]
        assert r["killed_after_first_checkpoint"] and r["restored"] and r["losses_finite"], r
    assert results["checks"]["centroids_2_ranks"]["max_abs_diff"] <= 1e-10
    assert "| train rafdb_paper (kill + restore) | ok |" in out.stdout
