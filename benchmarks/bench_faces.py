"""Images/s of face cropping: Ray Data with N FaceCropper actors vs a plain MTCNN loop.

Same images, same run. Prints a table; asserts nothing.

    .venv/bin/python benchmarks/bench_faces.py --images 600 --actors 1 2
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def make_images(folder: Path, count: int) -> list:
    """Astronaut variants (flips, shifts, brightness), all 512x512 JPEGs."""
    import skimage.data

    from distlm.images import synthetic as syn

    base = skimage.data.astronaut()
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        img = np.roll(base, int(rng.integers(-40, 40)), axis=1)
        img = img[:, ::-1] if i % 2 else img
        img = np.clip(img.astype(np.int16) + int(rng.integers(-30, 30)), 0, 255).astype(np.uint8)
        path = folder / f"img_{i:04d}.jpg"
        path.write_bytes(syn.encode(np.ascontiguousarray(img), "JPEG", quality=90))
        paths.append(str(path))
    return paths


def plain_loop(paths: list, threads: int) -> tuple:
    from distlm.faces.threads import pin_tensorflow_threads
    from distlm.images import decode_image

    pin_tensorflow_threads(threads)
    from mtcnn import MTCNN

    t0 = time.perf_counter()
    det = MTCNN(device="CPU:0")
    det.detect_faces(decode_image(Path(paths[0]).read_bytes()))  # warm-up (graph tracing)
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = 0
    for p in paths:
        found += len(det.detect_faces(decode_image(Path(p).read_bytes())))
    return time.perf_counter() - t0, load, found


def ray_pipeline(paths: list, actors: int, detect_batch: int) -> tuple:
    import pyarrow as pa
    import ray

    from distlm.faces import CropOptions, add_face_crops

    from distlm.ray_local import start_local
    start_local(num_cpus=actors, include_dashboard=False, log_to_driver=False)
    try:
        index = pa.table({"id": [os.path.basename(p) for p in paths], "path": paths})
        opts = CropOptions(detector="mtcnn", detect_batch=detect_batch)

        blocks = [index.slice(i, detect_batch) for i in range(0, index.num_rows, detect_batch)]
        ds = add_face_crops(ray.data.from_arrow(blocks), opts, actors=actors, cpus_per_actor=1)
        t0 = time.perf_counter()
        arrivals, faces = [], 0
        for b in ds.iter_batches(batch_size=None, batch_format="numpy"):
            arrivals.append((time.perf_counter(), len(b["faces"])))
            faces += int(np.sum(b["faces"]))
        total = time.perf_counter() - t0
        # steady state: from the first batch out (actors up, TF loaded) to the last
        later = sum(n for _, n in arrivals[1:])
        steady = later / (arrivals[-1][0] - arrivals[0][0]) if len(arrivals) > 1 else float("nan")
        return total, steady, faces
    finally:
        ray.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=32)
    ap.add_argument("--actors", type=int, nargs="+", default=[2], help="pool sizes to measure, e.g. 1 2")
    ap.add_argument("--detect-batch", type=int, default=8)
    ap.add_argument("--loop-threads", type=int, default=None, help="TF threads of the plain loop (default: cores)")
    args = ap.parse_args()
    threads = args.loop_threads or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_images(Path(tmp), args.images)
        runs = {a: ray_pipeline(paths, a, args.detect_batch) for a in args.actors}
        loop_s, load_s, loop_faces = plain_loop(paths, threads=threads)
    n = len(paths)
    loop_rate = n / loop_s
    print(f"{'pipeline':<48}{'images':>8}{'seconds':>10}{'images/s':>10}{'vs loop':>9}{'faces':>7}")
    for a, (ray_s, ray_steady, ray_faces) in runs.items():
        print(f"{f'Ray Data, {a} actors, batch {args.detect_batch} (incl. start)':<48}"
              f"{n:>8}{ray_s:>10.2f}{n / ray_s:>10.2f}{n / ray_s / loop_rate:>8.2f}x{ray_faces:>7}")
        print(f"{f'Ray Data, {a} actors, steady state (after 1st batch)':<48}{'':>8}{'':>10}"
              f"{ray_steady:>10.2f}{ray_steady / loop_rate:>8.2f}x{'':>7}")
    print(f"{f'plain loop, detect_faces x1, {threads} TF threads':<48}{n:>8}{loop_s:>10.2f}"
          f"{loop_rate:>10.2f}{1.0:>8.2f}x{loop_faces:>7}")
    print(f"(plain loop model load + warm-up: {load_s:.2f} s, not counted; cores: {os.cpu_count()})")


if __name__ == "__main__":
    main()
