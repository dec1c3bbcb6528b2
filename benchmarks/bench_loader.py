"""Loader throughput per CPU core: Parquet crop shards → torch batches through the
trainer's own path (``ray_adaptor.shard_stream``), beside a plain pyarrow read of the
same shards and beside JPEG storage (decode cost), in one run.

Shards are written as ``distlm.prepare`` writes them (``records.parquet_bytes``: a raw
``fixed_size_binary(227·227·3)`` image column, metadata zstd, ``--rows`` per shard);
the crops are smooth colour fields plus noise (``bench_read.synthetic_crops``), so the
JPEG sizes and decode times are those of photograph-like content. Every reader is
timed in CPU seconds as well as wall seconds: CPU time of this process and of every
process under it (the local Ray's raylet, GCS and workers), read from ``/proc``, so
*images per CPU-second* is the rate one fully busy core sustains, whatever else
shares the machine. The ``shard_stream`` rows run the real loader: Ray Data's
Parquet read, ``iter_torch_batches`` with ``ArrowTrainCollate``, ``drop_last``, the
prefetch of ``PREFETCH_BATCHES`` and the local shuffle buffer (none, ``--shuffle-rows``,
and ``auto``: ``data.shuffle_buffer_mb`` over the row size, the trainer's default), on
the CPU device (no pinned copy). The cores-per-GPU figure divides ``--gpu-images-per-s``
by the last row's marginal rate.

    .venv/bin/python benchmarks/bench_loader.py --shards 24 --rows 256 --passes 2
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench_read import synthetic_crops
from distlm.data.image_column import binary as image_binary_column

TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int = None) -> float:
    """User + system CPU seconds of ``root`` (this process) and all its live descendants."""
    root = os.getpid() if root is None else root
    parent, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / TICKS
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(p for p, pp in parent.items() if pp == pid)
    return total


def write_shards(root: Path, shards: int, rows: int, size: int, quality: int, jpeg_shards: int) -> Dict[str, float]:
    """Raw shards under ``root/raw`` (as prepare writes them) and the first ``jpeg_shards``
    again as JPEG bytes under ``root/jpeg``; returns bytes per image of each."""
    from PIL import Image

    from distlm.prepare.records import parquet_bytes

    (root / "raw").mkdir(parents=True)
    (root / "jpeg").mkdir()
    sizes = {"raw": 0, "jpeg": 0}
    crops = synthetic_crops(shards * rows, size, seed=0, chunk=rows)
    for s, imgs in enumerate(crops):
        field, image = image_binary_column(imgs)
        labels = pa.array(np.arange(len(imgs)) % 7, pa.int64())
        table = pa.Table.from_arrays([image, labels], schema=pa.schema([field, pa.field("label", pa.int64())]))
        data = parquet_bytes(table)
        (root / "raw" / f"part-{s:05d}.parquet").write_bytes(data)
        sizes["raw"] += len(data)
        if s < jpeg_shards:
            encoded = []
            for img in imgs:
                buf = io.BytesIO()
                Image.fromarray(img).save(buf, format="JPEG", quality=quality)
                encoded.append(buf.getvalue())
            jt = pa.table({"image": pa.array(encoded, pa.binary()), "label": labels})
            data = parquet_bytes(jt)
            (root / "jpeg" / f"part-{s:05d}.parquet").write_bytes(data)
            sizes["jpeg"] += len(data)
    return {"raw": sizes["raw"] / (shards * rows), "jpeg": sizes["jpeg"] / max(jpeg_shards * rows, 1)}


def pyarrow_raw(root: Path, batch: int) -> Iterator[int]:
    """Plain pyarrow: each shard in ``batch``-row record batches → ``(b, H, W, C)`` uint8 tensors."""
    from distlm.data.loading.columns import arrow_to_tensors

    for path in sorted((root / "raw").glob("*.parquet")):
        for rb in pq.ParquetFile(path).iter_batches(batch_size=batch, use_threads=False):
            yield arrow_to_tensors(pa.Table.from_batches([rb]))["images"].shape[0]


def pyarrow_jpeg(root: Path, batch: int, decoder: str) -> Iterator[int]:
    """JPEG bytes from Parquet, decoded per image (``pil`` or ``torchvision``) into a batch."""
    import torch

    if decoder == "pil":
        from PIL import Image

        def decode(b: bytes) -> np.ndarray:
            return np.asarray(Image.open(io.BytesIO(b)).convert("RGB"))
    else:
        from torchvision.io import decode_jpeg

        def decode(b: bytes) -> np.ndarray:
            return decode_jpeg(torch.frombuffer(bytearray(b), dtype=torch.uint8)).permute(1, 2, 0).numpy()
    for path in sorted((root / "jpeg").glob("*.parquet")):
        for rb in pq.ParquetFile(path).iter_batches(batch_size=batch, columns=["image"], use_threads=False):
            images = torch.from_numpy(np.stack([decode(b) for b in rb.column(0).to_pylist()]))
            yield images.shape[0]


def ray_stream(files: List[str], batch: int, shuffle: int, seed: int) -> Iterator[int]:
    """The trainer's loader path: ``read_parquet`` (the trainer's datasource) → ``shard_stream``."""
    import ray.data

    from distlm.data.loading.columns import TRAIN_COLUMNS
    from distlm.data.loading.ray_adaptor import driver_listed_parquet, shard_stream

    driver_listed_parquet()
    ds = ray.data.read_parquet(files)
    ds = ds.select_columns([c for c in TRAIN_COLUMNS if c in ds.schema().names])
    for b in shard_stream(ds, batch, shuffle_buffer=shuffle or None, device="cpu")(seed):
        yield b.images.shape[0]


def measure(read: Callable[[int], Iterator[int]], passes: int) -> Dict[str, float]:
    """Images of one pass, and the best wall and CPU seconds over ``passes`` passes."""
    best = {"wall": float("inf"), "cpu": float("inf")}
    n = 0
    for p in range(passes):
        c0, t0 = tree_cpu_seconds(), time.perf_counter()
        n = sum(read(p))
        best["wall"] = min(best["wall"], time.perf_counter() - t0)
        best["cpu"] = min(best["cpu"], tree_cpu_seconds() - c0)
    return {"images": n, **best}


def marginal(half: Dict[str, float], whole: Dict[str, float]) -> float:
    """Images per CPU-second of the second half of the shards: a pass over all shards
    minus a pass over the first half, so a pass's fixed costs (planning, task start-up,
    filling the shuffle buffer) cancel; what one core sustains within a long epoch."""
    return (whole["images"] - half["images"]) / max(whole["cpu"] - half["cpu"], 1e-9)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shards", type=int, default=24, help="raw shards (prepare writes 256 crops each)")
    ap.add_argument("--rows", type=int, default=256, help="crops per shard")
    ap.add_argument("--size", type=int, default=227)
    ap.add_argument("--batch", type=int, default=256, help="rows per batch (a worker's local batch)")
    ap.add_argument("--passes", type=int, default=2, help="passes per reader; the best is kept")
    ap.add_argument("--jpeg-shards", type=int, default=4, help="shards also stored as JPEG")
    ap.add_argument("--quality", type=int, default=90, help="JPEG quality")
    ap.add_argument("--ray-cpus", type=int, default=2)
    ap.add_argument("--shuffle-mb", type=int, default=1024, help="the auto shuffle buffer's budget (the last row)")
    ap.add_argument("--shuffle-rows", type=int, nargs="*", default=[1024], help="fixed shuffle buffers to compare")
    ap.add_argument("--gpu-images-per-s", type=float, default=10_000.0,
                    help="what one GPU trains per second (estimate: AlexNet 227², batch 256, bf16, H100)")
    a = ap.parse_args(argv)

    import torch

    from distlm.data.loading.shuffle import row_bytes, shuffle_rows

    torch.set_num_threads(1)
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    root = Path(tempfile.mkdtemp(prefix="bench_loader_"))
    try:
        per_image = write_shards(root, a.shards, a.rows, a.size, a.quality, a.jpeg_shards)
        buffer = shuffle_rows("auto", a.shuffle_mb, row_bytes(a.size, 3))
        readers: List[Tuple[str, Callable[[int], Iterator[int]]]] = [
            ("pyarrow, raw uint8 (plain read)", lambda p: pyarrow_raw(root, a.batch)),
            (f"pyarrow + PIL, JPEG q{a.quality}", lambda p: pyarrow_jpeg(root, a.batch, "pil")),
            (f"pyarrow + torchvision, JPEG q{a.quality}", lambda p: pyarrow_jpeg(root, a.batch, "torchvision")),
        ]
        import torchvision.io  # noqa: F401  (imported before any timing)

        results = [(name, measure(read, a.passes)) for name, read in readers]
        from distlm.ray_local import start_local

        start_local(num_cpus=a.ray_cpus, include_dashboard=False, log_to_driver=False)
        import ray.data

        ray.data.DataContext.get_current().enable_progress_bars = False
        files = sorted(str(f) for f in (root / "raw").glob("*.parquet"))
        for shuffle in (0, *a.shuffle_rows, buffer):
            name = f"shard_stream, raw uint8, shuffle {shuffle or 'none'}" + (" (auto)" if shuffle == buffer else "")
            half = measure(lambda p: ray_stream(files[:len(files) // 2], a.batch, shuffle, p), a.passes)
            whole = measure(lambda p: ray_stream(files, a.batch, shuffle, p), a.passes)
            results.append((name, {**whole, "marginal": marginal(half, whole)}))
        ray.shutdown()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(f"\n{a.shards} shards x {a.rows} crops of {a.size}x{a.size}x3 ({a.jpeg_shards} shards also as JPEG), "
          f"batch {a.batch}, best of {a.passes} passes, {os.cpu_count()} cores, Ray with {a.ray_cpus} CPUs; "
          f"bytes per image: raw {per_image['raw']:,.0f}, JPEG {per_image['jpeg']:,.0f}\n")
    print("| reader | images per pass | images/s (wall) | images per CPU-second, whole pass | "
          "images per CPU-second, marginal |")
    print("|---|---|---|---|---|")
    for name, r in results:
        n = r["images"]
        rate = r.get("marginal", n / r["cpu"])
        print(f"| {name} | {n:,} | {n / r['wall']:,.0f} | {n / r['cpu']:,.0f} | {rate:,.0f} |")
    print("marginal (Ray rows): a pass over all shards minus one over half of them (fixed costs cancel)")
    name, r = results[-1]
    per_core = r["marginal"]
    print(f"\nloader cores per GPU at {a.gpu_images_per_s:,.0f} images/s (an estimate until measured): "
          f"{a.gpu_images_per_s / per_core:.1f} ({name}: {per_core:,.0f} images per CPU-second, marginal)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
