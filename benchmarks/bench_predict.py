"""Images/s of prediction on CPU: the Ray Data pipeline vs. a plain loop, same run.

    python benchmarks/bench_predict.py [--images 200] [--actors 1 2] [--short 40]

Photos are synthesised from ``skimage.data.astronaut()`` (random crops, flips and
shifts, saved as JPEG at 512-1024 px). The model is an untrained RGB ``small_cnn``
at 64 px with detector MTCNN (the detector dominates the cost). The plain loop runs
``Predictor.predict(path)`` one image at a time (detector, then model); the pipeline
is ``distlm.predict.pipeline.run_pipeline`` with N face actors and one model actor.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = [(512, 512), (768, 1024), (1024, 768), (640, 640)]  # (H, W): camera-like shapes


def synth_photos(folder: str, n: int, seed: int = 0) -> list:
    from skimage import data

    rng = np.random.default_rng(seed)
    base = data.astronaut()
    paths = []
    for i in range(n):
        h, w = SIZES[i % len(SIZES)]
        side = int(rng.integers(300, 512))
        y0, x0 = int(rng.integers(0, 512 - side + 1)), int(rng.integers(0, 512 - side + 1))
        crop = base[y0:y0 + side, x0:x0 + side]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        canvas = np.full((h, w, 3), int(rng.integers(0, 255)), np.uint8)
        img = np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize((min(h, w) // 2 * 2 // 2 * 2,) * 2))
        s = img.shape[0]
        oy, ox = int(rng.integers(0, h - s + 1)), int(rng.integers(0, w - s + 1))
        canvas[oy:oy + s, ox:ox + s] = img
        path = os.path.join(folder, f"photo_{i:04d}.jpg")
        Image.fromarray(canvas).save(path, quality=90)
        paths.append(path)
    return paths


def make_checkpoint(folder: str) -> str:
    import torch

    from distlm.config import load_job, spec_to_dict
    from distlm.models import create_model
    from distlm.checkpoint.state import save_state

    spec = load_job(os.path.join(HERE, "..", "jobs", "local-smoke.yaml"),
                    ["data.channels=3", "data.image_size=64", "model.options={width: 8, norm: group}"])
    torch.manual_seed(0)
    state = {"model": create_model(spec).state_dict(), "spec": spec_to_dict(spec),
             "norm": {"mean": [120.0] * 3, "std": [60.0] * 3},
             "preprocess": {"detector": "mtcnn", "size": 64, "max_side": 512}}
    return save_state(folder, state)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--items-per-task", type=int, default=8)
    ap.add_argument("--short", type=int, default=40,
                    help="images of the short run: (T(all) - T(short)) / (all - short) is the rate once "
                         "the actors are up (each run starts its own pools)")
    args = ap.parse_args()
    import ray

    from distlm.predict import Predictor
    from distlm.predict.inputs import expand_inputs
    from distlm.predict.pipeline import run_pipeline

    results = {"images": args.images, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        paths = synth_photos(tmp, args.images)
        ckpt = make_checkpoint(os.path.join(tmp, "ckpt"))
        t = time.perf_counter()
        pred = Predictor(ckpt, device="cpu")
        pred.predict(paths[0])  # warm-up (TensorFlow graph tracing)
        results["loop_load_s"] = round(time.perf_counter() - t, 2)

        def loop(key: str) -> None:
            t = time.perf_counter()
            faces = sum(len(pred.predict(p)) for p in paths)
            dt = time.perf_counter() - t
            results[key] = {"images_per_s": args.images / dt, "faces": faces, "seconds": dt}

        loop("loop")  # measured again after the pipeline runs: the slower-machine drift shows
        items = expand_inputs(paths)
        from distlm.ray_local import start_local
        start_local(num_cpus=os.cpu_count(), include_dashboard=False)
        try:
            for n in args.actors:
                t = time.perf_counter()
                run_pipeline(ckpt, items[:args.short], face_actors=n,
                             items_per_task=args.items_per_task)
                short = time.perf_counter() - t
                t = time.perf_counter()
                res = run_pipeline(ckpt, items, face_actors=n,
                                   items_per_task=args.items_per_task)
                dt = time.perf_counter() - t
                results[f"ray_{n}_actors"] = {"images_per_s": args.images / dt, "faces": len(res), "seconds": dt}
                results[f"ray_{n}_actors_running"] = {
                    "images_per_s": (args.images - args.short) / max(dt - short, 1e-9),
                    "note": f"marginal rate: (T({args.images}) - T({args.short})) / {args.images - args.short}"}
        finally:
            ray.shutdown()
        loop("loop_again")
    # ratios against the faster of the two loop runs (the conservative one)
    base = max(results["loop"]["images_per_s"], results["loop_again"]["images_per_s"])
    for k, v in results.items():
        if isinstance(v, dict):
            v["speedup"] = round(v["images_per_s"] / base, 2)
            v["images_per_s"] = round(v["images_per_s"], 2)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
