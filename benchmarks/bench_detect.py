"""Face detection speed, one core: full size vs downscaled vs draft-decoded vs batched.

Real face photos (scikit-image's astronaut, cut to three aspect ratios, a two-face
tile, and upscaled copies from 512 px up to 2560x1912), saved as JPEG (quality 95).
Every variant runs side by side in this one process on the same files, TensorFlow and
OpenCV on one thread; images/s include reading and decoding. Box differences are in
source pixels, against full-size detection of the same image. Asserts nothing.

    .venv/bin/python benchmarks/bench_detect.py --repeat 1
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np

SIZES = [(512, 512), (1280, 960), (2560, 1912)]


def make_photos(folder: Path) -> List[str]:
    """JPEGs of real faces at several native sizes and aspect ratios; returns paths."""
    import cv2
    import skimage.data

    from distlm.images import synthetic as syn

    astro = skimage.data.astronaut()
    half = astro[:, 100:356]
    two = np.full((512, 2 * 256 + 60, 3), 128, np.uint8)  # two faces, the right one 80 % the size
    two[:, :256] = half
    two[50:50 + 410, 316:316 + 205] = cv2.resize(half, (205, 410), interpolation=cv2.INTER_AREA)
    shapes = {"wide": astro[:384], "two": two}
    paths = []
    for w, h in SIZES:
        for name, img in shapes.items():
            ih, iw = img.shape[:2]
            s = min(w / iw, h / ih)
            big = cv2.resize(img, (round(iw * s), round(ih * s)), interpolation=cv2.INTER_CUBIC)
            path = folder / f"{name}_{big.shape[1]}x{big.shape[0]}.jpg"
            path.write_bytes(syn.encode(np.ascontiguousarray(big), "JPEG", quality=95))
            paths.append(str(path))
    return paths


def timed(fn: Callable[[list], list], items: list, repeat: int) -> tuple:
    fn(items[:2])  # warm-up (graph tracing, caches) on the two smallest
    t0 = time.perf_counter()
    for _ in range(repeat):
        out = fn(items)
    return (time.perf_counter() - t0) / repeat, out


def boxes_of(results) -> List[np.ndarray]:
    return [np.zeros((0, 4)) if r.box is None else r.box[None] for r in results]


def max_diff(a: List[np.ndarray], b: List[np.ndarray]) -> str:
    """Largest |box difference| (px) over images whose kept face agrees; misses counted."""
    worst, missing = 0.0, 0
    for x, y in zip(a, b):
        if len(x) != len(y):
            missing += 1
        elif len(x):
            worst = max(worst, float(np.abs(x - y).max()))
    return f"{worst:.1f}" + (f" ({missing} differ)" if missing else "")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--latency-ms", type=float, default=30.0, help="simulated object-store latency per read")
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import pyarrow as pa

    import distlm.faces.ray_cropper as rc
    from distlm.faces import DETECTORS, CropOptions, FaceCropper, crop_faces
    from distlm.faces.source import Source
    from distlm.images import decode_image, decode_reduced

    mt = {m: DETECTORS.create("mtcnn", num_threads=1, batching=m) for m in ("single", "shape", "pad")}
    haar = DETECTORS.create("haar", num_threads=1)
    rows: Dict[str, tuple] = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_photos(Path(tmp))
        blobs = [Path(p).read_bytes() for p in paths]
        n = len(paths)

        def full_decode(items):
            return [decode_image(b) for b in items]

        def reduced(items, side):
            out = []
            for b in items:
                px, s = decode_reduced(b, min_side=side)
                out.append(Source(px, s, (lambda b=b: decode_image(b)) if s != 1.0 else None))
            return out

        def run(det, side, batch, draft):
            opts = CropOptions(detector="mtcnn", size=227, max_side=side, detect_batch=batch)
            return lambda items: crop_faces(reduced(items, side) if draft else full_decode(items), det, opts)

        variants = [
            ("mtcnn, full size (max_side 0), 1 image/call", run(mt["single"], 0, 1, False)),
            ("mtcnn, max_side 640, 1 image/call", run(mt["single"], 640, 1, False)),
            ("  + draft decode", run(mt["single"], 640, 1, True)),
            ("  + 8/call, same-shape groups (default)", run(mt["shape"], 640, 8, True)),
            ("  + 8/call, any shapes padded to one canvas", run(mt["pad"], 640, 8, True)),
        ]
        ref = None
        for name, fn in variants:
            sec, res = timed(fn, blobs, args.repeat)
            boxes = boxes_of(res)
            ref = boxes if ref is None else ref
            rows[name] = (n / sec, max_diff(ref, boxes), sum(r.box is not None for r in res))
            print(name, rows[name], flush=True)
        haar_opts = CropOptions(detector="haar", size=227, max_side=640, detect_batch=8)
        sec, res = timed(lambda items: crop_faces(reduced(items, 640), haar, haar_opts), blobs, args.repeat)
        rows["haar (OpenCV), max_side 640, draft"] = (n / sec, max_diff(ref, boxes_of(res)),
                                                      sum(r.box is not None for r in res))

        real_read = rc.read_bytes

        def slow_read(path, storage=None):
            time.sleep(args.latency_ms / 1000)
            return real_read(path, storage)

        rc.read_bytes = slow_read
        for threads in (1, 8):
            cropper = FaceCropper(CropOptions(max_side=640), num_threads=1, fetch_threads=threads)
            sec, out = timed(lambda items: cropper(pa.table({"id": items, "path": items})), paths, args.repeat)
            rows[f"FaceCropper, {args.latency_ms:.0f} ms reads, fetch_threads {threads}"] = (n / sec, "", "")
        rc.read_bytes = real_read
    base = next(iter(rows.values()))[0]
    print(f"{n} JPEGs, sizes {SIZES[0]}..{SIZES[-1]}, repeat {args.repeat}, 1 thread")
    print(f"| {'variant':<52} | images/s | vs full | max box diff px | faces kept |")
    print("|---|---|---|---|---|")
    for name, (rate, diff, kept) in rows.items():
        print(f"| {name:<52} | {rate:8.2f} | {rate / base:6.1f}x | {diff:>15} | {kept!s:>10} |")


if __name__ == "__main__":
    main()
