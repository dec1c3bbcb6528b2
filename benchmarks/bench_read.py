"""Training-time read throughput: Parquet crops (pyarrow, Ray Data) vs JPEG files (PIL).

The same synthetic face-sized crops (227×227×3 uint8, smooth like photographs plus
sensor noise) are written as JPEG files and as Parquet shards in two layouts of the
``image`` column: ``tensor`` (``fixed_shape_tensor``, a list type: Parquet stores and
decodes it value by value) and ``binary`` (``fixed_size_binary(H·W·C)`` with the shape
in the field metadata: one plain value per row). Each is read back into
``(B, H, W, C) uint8`` torch batches, as the training loader gets them.

    .venv/bin/python benchmarks/bench_read.py --n 2000

Single-threaded readers (pyarrow, torch and PIL pinned to one thread) give crops/s
per core directly; Ray Data uses ``--ray-cpus`` cores and is reported per core too.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
import torch.nn.functional as F
from PIL import Image

from distlm.data.image_column import binary as image_binary_column
from distlm.data.loading.columns import arrow_to_tensors


def synthetic_crops(n: int, size: int, seed: int, chunk: int = 100) -> Iterator[np.ndarray]:
    """``(k, size, size, 3) uint8`` chunks: upsampled low-frequency colour fields plus noise."""
    gen = torch.Generator().manual_seed(seed)
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        low = torch.rand(k, 3, 6, 6, generator=gen) * 255
        img = F.interpolate(low, size=(size, size), mode="bicubic", align_corners=False)
        img = img + torch.randn(img.shape, generator=gen) * 6
        yield img.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def parquet_table(imgs: np.ndarray, layout: str) -> pa.Table:
    """Crops as a table: ``tensor`` (fixed_shape_tensor, the agreed schema) or ``binary`` (fixed_size_binary)."""
    labels = pa.array(np.zeros(len(imgs)), pa.int32())
    if layout == "binary":
        field, image = image_binary_column(imgs)
        return pa.Table.from_arrays([image, labels], schema=pa.schema([field, pa.field("label", pa.int32())]))
    n, h, w, c = imgs.shape
    storage = pa.FixedSizeListArray.from_arrays(pa.array(imgs.reshape(-1), pa.uint8()), h * w * c)
    image = pa.ExtensionArray.from_storage(pa.fixed_shape_tensor(pa.uint8(), (h, w, c)), storage)
    return pa.table({"image": image, "label": labels})


def write_inputs(root: Path, n: int, size: int, seed: int, per_file: int, quality: int,
                 compression: str, layouts: Tuple[str, ...]) -> Tuple[List[Path], Dict[str, List[Path]]]:
    jpeg_dir = root / "jpeg"
    jpeg_dir.mkdir(parents=True)
    for layout in layouts:
        (root / layout).mkdir()
    jpegs: List[Path] = []
    pending: List[np.ndarray] = []
    shards: Dict[str, List[Path]] = {layout: [] for layout in layouts}

    def flush() -> None:
        imgs = np.concatenate(pending)
        pending.clear()
        for layout in layouts:
            path = root / layout / f"part-{len(shards[layout]):05d}.parquet"
            pq.write_table(parquet_table(imgs, layout), path, compression=compression,
                           use_dictionary=False, row_group_size=256)
            shards[layout].append(path)

    for chunk in synthetic_crops(n, size, seed):
        for img in chunk:
            path = jpeg_dir / f"{len(jpegs):06d}.jpg"
            Image.fromarray(img).save(path, quality=quality)
            jpegs.append(path)
        pending.append(chunk)
        if sum(len(p) for p in pending) >= per_file:
            flush()
    if pending:
        flush()
    return jpegs, shards


def read_pyarrow(shards: List[Path], batch: int) -> Iterator[torch.Tensor]:
    for path in shards:
        for rb in pq.ParquetFile(path).iter_batches(batch_size=batch, columns=["image", "label"], use_threads=False):
            yield arrow_to_tensors(pa.Table.from_batches([rb]))["images"]


def read_jpeg(paths: List[Path], batch: int) -> Iterator[torch.Tensor]:
    for i in range(0, len(paths), batch):
        imgs = [np.asarray(Image.open(p).convert("RGB")) for p in paths[i:i + batch]]
        yield torch.from_numpy(np.stack(imgs))


def read_ray(pq_dir: Path, batch: int) -> Iterator[torch.Tensor]:
    import ray
    from distlm.data.loading.ray_adaptor import ArrowTrainCollate

    ds = ray.data.read_parquet(str(pq_dir), columns=["image", "label"])
    for b in ds.iter_torch_batches(batch_size=batch, collate_fn=ArrowTrainCollate(), device="cpu"):
        yield b["images"]


def timed(read: Callable[[], Iterator[torch.Tensor]], repeats: int) -> Tuple[float, float, int, torch.Tensor]:
    """Best wall time over ``repeats`` full passes, and best time after the first batch
    (steady state, without start-up such as Ray Data planning); rows and first batch."""
    best, steady, rows, first = float("inf"), float("inf"), 0, None
    for _ in range(repeats):
        t0, rows, t1, rows1 = time.perf_counter(), 0, None, 0
        for i, x in enumerate(read()):
            rows += x.shape[0]
            first = x if i == 0 else first
            _ = int(x[:, 0, 0, 0].sum())  # touch the pixels
            if i == 0:
                t1, rows1 = time.perf_counter(), rows
        end = time.perf_counter()
        best = min(best, end - t0)
        steady = min(steady, (end - t1) * rows / max(rows - rows1, 1))  # scaled to all rows
    return best, steady, rows, first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="crops")
    ap.add_argument("--size", type=int, default=227)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--per-file", type=int, default=500, help="crops per Parquet shard")
    ap.add_argument("--quality", type=int, default=90, help="JPEG quality")
    ap.add_argument("--compression", default="none", help="Parquet codec: none, snappy, zstd, lz4")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--ray-cpus", type=int, default=2, help="0 skips Ray Data")
    ap.add_argument("--workdir", default=None, help="where to write inputs (default: a temp folder, removed)")
    args = ap.parse_args()

    torch.set_num_threads(1)
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    root = Path(args.workdir or tempfile.mkdtemp(prefix="bench_read_"))
    try:
        t0 = time.perf_counter()
        layouts = ("binary", "tensor")
        jpegs, shards = write_inputs(root, args.n, args.size, 0, args.per_file, args.quality, args.compression, layouts)
        sizes = {k: sum(p.stat().st_size for p in v) / 2**20 for k, v in shards.items()}
        print(f"wrote {args.n} crops {args.size}x{args.size}x3 in {time.perf_counter() - t0:.1f}s: "
              f"JPEG q{args.quality} {sum(p.stat().st_size for p in jpegs) / 2**20:.0f} MiB, Parquet "
              f"({args.compression}) " + ", ".join(f"{k} {v:.0f} MiB" for k, v in sizes.items())
              + f"; cpus on this machine: {os.cpu_count()}")

        rows: List[Tuple[str, int, float, float, int]] = []
        t_j, s_j, n_j, first_j = timed(lambda: read_jpeg(jpegs, args.batch), args.repeats)
        rows.append(("JPEG files, PIL decode", 1, t_j, s_j, n_j))
        for layout in layouts:
            t_p, s_p, n_p, first_p = timed(lambda: read_pyarrow(shards[layout], args.batch), args.repeats)
            rows.append((f"Parquet {layout} column, pyarrow", 1, t_p, s_p, n_p))
            diff = (first_p.float() - first_j.float()).abs().mean().item()
            print(f"same images ({layout}): mean |Parquet - JPEG| = {diff:.2f} grey levels (JPEG is lossy)")
        if args.ray_cpus:
            import ray

            from distlm.ray_local import start_local
            start_local(num_cpus=args.ray_cpus, include_dashboard=False, log_to_driver=False)
            from ray.data import DataContext

            DataContext.get_current().enable_progress_bars = False
            t_r, s_r, n_r, _ = timed(lambda: read_ray(root / "binary", args.batch), args.repeats)
            rows.append(("Parquet binary, Ray Data iter_torch_batches", args.ray_cpus, t_r, s_r, n_r))
            ray.shutdown()

        base = n_j / t_j
        print(f"\n{'reader':46s} {'cores':>5s} {'crops/s':>9s} {'steady':>9s} {'steady/core':>12s} {'x JPEG':>7s}")
        for name, cores, t, st, n in rows:
            rate, srate = n / t, n / st
            print(f"{name:46s} {cores:5d} {rate:9,.0f} {srate:9,.0f} {srate / cores:12,.0f} {rate / base:7.1f}")
        print("crops/s: whole pass; steady: after the first batch (no start-up); x JPEG: whole-pass ratio")
    finally:
        if args.workdir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
