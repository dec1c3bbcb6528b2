"""At 1M images nothing per image passes through the driver: the index is built in a Ray
task, the crops are written by the workers, and the driver sees one count row per block."""
from __future__ import annotations

import numpy as np
import pytest

from distlm.images import synthetic as syn

pytestmark = pytest.mark.slow


def test_the_driver_never_indexes_nor_sees_a_crop(ray_local, tmp_path, monkeypatch):
    import distlm.prepare.plan as plan
    import distlm.prepare.ray_run as ray_run
    from distlm.prepare import prepare, read_manifest

    rng = np.random.default_rng(3)
    for i in range(9):
        (tmp_path / "src" / f"{i}.png").parent.mkdir(exist_ok=True)
        (tmp_path / "src" / f"{i}.png").write_bytes(syn.encode(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8), "PNG"))

    def no_index_here(*args, **kwargs):
        raise AssertionError("the driver built the index")

    monkeypatch.setattr(plan, "load_index", no_index_here)   # this process only: Ray workers keep theirs
    seen = []
    crop_pending = ray_run.crop_pending

    def spy(*args, **kwargs):
        for row in crop_pending(*args, **kwargs):
            seen.append(row)
            yield row

    monkeypatch.setattr("distlm.prepare.runner.crop_pending", spy)
    summary = prepare(str(tmp_path / "src"), str(tmp_path / "out"), detector="none", size=8, shard_size=4)
    assert summary["inputs"] == summary["written"] == 9
    assert len(read_manifest(str(tmp_path / "out"))) == 9
    assert sorted(r["inputs"] for r in seen) == [1, 4, 4]                     # one row per block
    assert all(set(r) == {"inputs", "counts"} and set(r["counts"]) == {"outcomes", "reasons", "faces_found"}
               for r in seen)                                                # counts, never pixels or ids


def test_each_pending_part_reaches_the_croppers_as_its_own_block(ray_local, tmp_path):
    """One part, one block, one crop task: the pool's parallelism is the number of parts
    (Ray's default Parquet reader would pack all these small parts into one block)."""
    import pyarrow as pa

    from distlm.prepare.layout import Output
    from distlm.prepare.options import PrepareOptions
    from distlm.prepare.plan import plan
    from distlm.prepare.ray_run import pending_dataset
    from distlm.prepare.slices import SLICE_COLUMN

    n = 50
    index = pa.table({"id": [f"{i:03d}.png" for i in range(n)], "path": [str(tmp_path / f"{i:03d}.png") for i in range(n)]})
    opts = PrepareOptions.from_kwargs(detector="none", size=8, shard_size=3)
    made = plan(index, str(tmp_path / "out"), opts)
    assert made["parts"] == 17
    blocks = list(pending_dataset(Output(str(tmp_path / "out")), made["parts"])
                  .iter_batches(batch_size=None, batch_format="pyarrow"))
    slices = [b.column(SLICE_COLUMN).unique().to_pylist() for b in blocks]
    assert len(blocks) == 17 and all(len(s) == 1 for s in slices)
    assert sorted(s[0] for s in slices) == list(range(17)) and sum(b.num_rows for b in blocks) == n
