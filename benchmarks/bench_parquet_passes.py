"""One pass over Parquet crop shards through Ray Data: the datasource distlm uses
(V1, footers read on the driver: ``driver_listed_parquet``) vs. Ray's default (V2,
footers read by a pool of ``FooterReader`` actors started for every execution).

The training loader executes each dataset once per epoch per side, and every
evaluation executes the test set again, so the fixed cost of one execution is paid
every epoch. Shards are written as ``prepare`` writes them (``fixed_size_binary``
image column); each pass reads them whole in Arrow batches (``iter_batches``). Three
times per mode and round: the dataset's build (``read_parquet``: V1 reads the footers
here), its first pass, and a second pass over the same dataset (what every later epoch
of training pays). Rounds are interleaved (V1, V2, V1, ...) in one Ray session; the
best and the median are kept. At thousands of shards use tiny images (``--size 16``):
the count of files is what is measured, not the bytes.

    .venv/bin/python benchmarks/bench_parquet_passes.py --shards 1 8 --rows 256 --rounds 3
    .venv/bin/python benchmarks/bench_parquet_passes.py --shards 4000 --rows 16 --size 16 --rounds 1
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from distlm.data.image_column import binary as image_binary_column


def write_shards(root: Path, shards: int, rows: int, size: int, seed: int) -> Path:
    """``shards`` Parquet files of ``rows`` random ``size``×``size``×3 crops each."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    for s in range(shards):
        imgs = rng.integers(0, 256, (rows, size, size, 3), dtype=np.uint8)
        field, image = image_binary_column(imgs)
        labels = pa.array(rng.integers(0, 7, rows), pa.int32())
        table = pa.Table.from_arrays([image, labels], schema=pa.schema([field, pa.field("label", pa.int32())]))
        pq.write_table(table, root / f"part-{s:05d}.parquet")
    return root


STAGES = ("build", "pass", "again")  # read_parquet; its first pass; a second pass of the same dataset


def timed_passes(path: Path, v2: bool, batch: int, rows: int) -> Dict[str, float]:
    """Seconds to build the dataset, to read every row once in Arrow batches, and to
    read them all again from the same dataset (``STAGES``)."""
    import ray.data

    ray.data.DataContext.get_current().use_datasource_v2 = v2
    out = {}
    t0 = time.perf_counter()
    ds = ray.data.read_parquet(str(path), columns=["image", "label"])
    out["build"] = time.perf_counter() - t0
    for stage in ("pass", "again"):
        t0 = time.perf_counter()
        n = sum(b.num_rows for b in ds.iter_batches(batch_size=batch, batch_format="pyarrow"))
        out[stage] = time.perf_counter() - t0
        assert n == rows, (n, rows)
        print(f"  {'v2' if v2 else 'v1'} {stage}: {out[stage]:.2f} s", flush=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shards", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--rows", type=int, default=256, help="crops per shard")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ray-cpus", type=int, default=4)
    a = ap.parse_args(argv)

    import ray
    import ray.data

    ctx = ray.data.DataContext.get_current()
    if not hasattr(ctx, "use_datasource_v2"):
        print(f"Ray {ray.__version__} has one Parquet datasource: nothing to compare")
        return 0
    from distlm.ray_local import start_local
    start_local(num_cpus=a.ray_cpus, include_dashboard=False, log_to_driver=False)
    ctx.enable_progress_bars = False
    ray.data.range(8).take_all()  # warm the task workers once, for both modes alike
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for shards in a.shards:
            path = write_shards(Path(tmp) / f"s{shards}", shards, a.rows, a.size, seed=shards)
            times: Dict[tuple, List[float]] = {(m, s): [] for m in ("v1", "v2") for s in STAGES}
            for _ in range(a.rounds):
                for mode in ("v1", "v2"):
                    got = timed_passes(path, mode == "v2", a.batch, shards * a.rows)
                    for stage, seconds in got.items():
                        times[mode, stage].append(seconds)
                    print(f"{shards} shards, {mode}: " + ", ".join(f"{k} {v:.2f} s" for k, v in got.items()),
                          flush=True)
            best = {k: min(t) for k, t in times.items()}
            med = {k: statistics.median(t) for k, t in times.items()}
            rows.append((shards, best, med))
    ray.shutdown()
    print(f"\n{a.rows} crops of {a.size}x{a.size}x3 per shard, {a.rounds} interleaved rounds, "
          f"Ray {ray.__version__}, {a.ray_cpus} logical CPUs\n")
    print("| shards | stage | driver-listed (V1) best / median | footer actors (V2) best / median | V2 / V1 (best) |")
    print("|---|---|---|---|---|")
    for shards, best, med in rows:
        for stage in STAGES:
            v1, v2 = (best[m, stage] for m in ("v1", "v2"))
            print(f"| {shards} | {stage} | {v1:.2f} s / {med['v1', stage]:.2f} s "
                  f"| {v2:.2f} s / {med['v2', stage]:.2f} s "
                  f"| {v2 / max(v1, 1e-9):.1f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
