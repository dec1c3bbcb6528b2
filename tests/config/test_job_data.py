"""Every job spec in jobs/ builds its data: each source, with its dataset path
swapped for a fixture tree in the published layout (Fashion-MNIST is real), is
read by its reader with the job's options into a non-empty index, train/test
rows go to the right side, and raw-image sources are refused by the trainer
with the `prepare` command to run."""
import dataclasses
import functools
import glob
import os
import sys

import pytest

from distlm.config import load_job
from distlm.data.readers.dataset import read_table
from distlm.data.sources import RawImagesError, check_sources, reader_spec, sources, split_for

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "data"))
from fixtures_readers import rafdb_tree, touch, write  # noqa: E402

JOBS = sorted(p for p in glob.glob(os.path.join(REPO, "jobs", "**", "*.yaml"), recursive=True))
AUS = [1, 2, 4, 5, 6, 9, 12, 17, 20, 25, 26, 43]


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    root = tmp_path_factory.mktemp("datasets")
    names = ["train_00001.jpg", "train_00002.jpg", "test_0001.jpg"]
    rafdb = rafdb_tree(root / "rafdb", "train_00001.jpg 1\ntrain_00002.jpg 4\ntest_0001.jpg 7\n", names)
    touch(root / "emotionet", ["a.jpg", "b.jpg"])
    row = lambda name, v: name + "," + ",".join(str(x) for x in v) + "\n"  # noqa: E731
    write(root / "emotionet", "train.csv", row("a.jpg", [1, 0, 999] + [0] * 9))
    write(root / "emotionet", "test.csv", row("b.jpg", [0, 1, 1] + ["NaN"] + [0] * 8))
    touch(root / "pool", ["x/1.jpg", "y/2.png"])
    return {"rafdb": str(rafdb), "emotionet": str(root / "emotionet"), "images": str(root / "pool")}


def swapped(source, fixtures):
    """The source with its dataset path replaced by the fixture of its format."""
    if source.format == "fmnist":
        return source
    if source.format == "emotionet":
        return dataclasses.replace(source, path=os.path.join(fixtures["emotionet"], os.path.basename(source.path)))
    return dataclasses.replace(source, path=fixtures[source.format])


@functools.lru_cache(maxsize=None)
def _fmnist_rows(key):
    return read_table(dict(key)).num_rows


@pytest.mark.parametrize("path", JOBS, ids=[os.path.relpath(p, REPO) for p in JOBS])
def test_job_builds_its_data_on_fixtures(path, fixtures):
    spec = load_job(path)
    raw = False
    for side, source in sources(spec):
        src = swapped(source, fixtures)
        call = reader_spec(spec, src, side)
        if src.format == "fmnist":
            rows = _fmnist_rows(tuple(sorted((k, v) for k, v in call.items() if not isinstance(v, dict))))
            assert rows > 0
            continue
        raw = True
        table = read_table(call)
        assert table.num_rows > 0, (side, call)
        want = split_for(side, set(table.column("split").to_pylist()))
        if want is not None:
            assert want in set(table.column("split").to_pylist())
    if raw:
        with pytest.raises(RawImagesError, match="distlm.prepare"):
            check_sources(spec)
    else:
        check_sources(spec)
