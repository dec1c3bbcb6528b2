"""``python -m distlm.predict`` killed mid-run leaves no results (only its parts); the
rerun into the same output skips the inputs done and ends with exactly the rows of a
clean run, every input once (faces in the results, the rest in the errors file)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from PIL import Image

from distlm.predict.parts import parts_dir

from predict_helpers import killed_at, source_env

REPO = Path(__file__).resolve().parents[2]


def _rows(path):
    """Rows as a set of tuples (floats rounded), and the list of (input, frame, face_id) keys."""
    table = pacsv.read_csv(str(path)).to_pylist()
    norm = {tuple((k, round(v, 5) if isinstance(v, float) else v) for k, v in r.items()) for r in table}
    return norm, [(r["input"], r.get("frame"), r.get("face_id")) for r in table]


@pytest.mark.slow
def test_killed_run_resumes_to_the_rows_of_a_clean_run(ray_shared, fmnist_worker, tmp_path):
    _, ckpt = fmnist_worker
    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i in range(5):
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(src / f"p{i}.png")
    (src / "broken.jpg").write_bytes(b"not a jpeg")
    inputs = {str(p) for p in src.iterdir()}
    address = ray_shared.get_runtime_context().gcs_address
    # one input per part: every input is its own batch and its own part
    common = [ckpt, str(src), "--address", address, "--batch-size", "1", "--rows-per-part", "1",
              "--items-per-task", "1"]
    out = tmp_path / "resumed" / "faces.csv"
    errors = out.with_name("faces.errors.csv")

    # commits: 1 run.json, 2 the first part, 3 the second part (killed before its rename)
    killed_at(3, "distlm.predict", *common, "-o", str(out), cwd=REPO)
    assert not out.exists() and not errors.exists()  # a half-done run never looks complete
    [part] = sorted(Path(parts_dir(str(out))).glob("part-*.parquet"))
    first = set(pq.read_table(part)["input"].to_pylist())
    assert len(first) == 1 and first <= inputs

    def run(target):
        res = subprocess.run([sys.executable, "-m", "distlm.predict", *common, "-o", str(target)], cwd=REPO,
                             capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
                             env=source_env())
        assert res.returncode == 0, res.stderr[-3000:]
        return json.loads(res.stdout.strip().splitlines()[-1])

    resumed = run(out)
    assert resumed["resumed"] == 1 and resumed["inputs"] == 6 and resumed["unreadable"] == 1
    assert not Path(parts_dir(str(out))).exists()
    clean = run(tmp_path / "clean" / "faces.csv")
    assert clean["resumed"] == 0
    got, keys = _rows(out)
    want, _ = _rows(tmp_path / "clean" / "faces.csv")
    assert got == want and len(got) == 5
    assert len(keys) == len(set(keys))  # nothing written twice
    got_err, _ = _rows(errors)
    want_err, err_keys = _rows(tmp_path / "clean" / "faces.errors.csv")
    assert got_err == want_err
    assert {k[0] for k in keys} | {k[0] for k in err_keys} == inputs
