"""The crop stage at the card's scale, on this machine.

Sections (each prints a table; nothing is asserted):

``index``   an EmotioNet-shaped source of N index rows (an annotation CSV of N rows and an
            image tree of N links to 8 real and synthetic JPEGs, so disk stays small) is
            planned by the crop stage: the plan task's time (listing, annotation parse,
            keys, file stats, pending parts) and the **driver's** peak RSS (``VmHWM``:
            ``ru_maxrss`` would carry the peak of the process that forked it across
            ``exec``), each N in a fresh driver process with its own local Ray.
``resume``  a 20,000-image crop run (``detector: none``, the decode/crop/write path) is
            killed (SIGKILL of the driver and its Ray) about half way and resumed; the
            resumed manifest is compared with a clean run's; then a third run on the same
            cache measures reuse.
``blocks``  how many Ray Data blocks the pending parts of an N-row plan reach the crop
            actors as (each block is one crop task): the stage's reader (one block per
            part) beside ``ray.data.read_parquet``'s default datasource, in one session.

    .venv/bin/python benchmarks/bench_crop_stage.py index --rows 100000 1000000
    .venv/bin/python benchmarks/bench_crop_stage.py resume --images 20000
    .venv/bin/python benchmarks/bench_crop_stage.py blocks --rows 100000 1000000
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from processes import kill_session  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
AUS = (1, 2, 4, 5, 6, 9, 12, 17, 20, 25, 26, 43)


def base_images(folder: Path) -> list:
    """8 JPEGs: the astronaut at three sizes, two crops of her, three synthetic images."""
    import cv2
    import skimage.data

    from distlm.images import synthetic as syn

    folder.mkdir(parents=True, exist_ok=True)
    astro = skimage.data.astronaut()
    imgs = [astro, cv2.resize(astro, (1280, 1280)), cv2.resize(astro, (2560, 1912)), astro[:300, 100:400],
            astro[20:260, 120:360], syn.gradient(480, 640), syn.gradient(227, 227), syn.tile(astro[30:210, 140:310], 2)]
    paths = []
    for i, img in enumerate(imgs):
        p = folder / f"base{i}.jpg"
        p.write_bytes(syn.encode(np.ascontiguousarray(img), "JPEG", quality=90))
        paths.append(p)
    return paths


def emotionet_source(root: Path, rows: int) -> Path:
    """``root/train.csv`` (N rows: image, 12 AUs in {0, 1, 999}) and ``root/img/NNN/*.jpg``
    symlinks to the base images; returns the CSV path."""
    csv = root / "train.csv"
    if csv.exists():
        return csv
    bases = base_images(root / "_base")
    rng = np.random.default_rng(0)
    values = rng.choice(np.array(["0", "1", "999"]), size=(rows, len(AUS)), p=[0.6, 0.3, 0.1])
    with open(csv, "w") as fh:
        fh.write("image," + ",".join(f"AU{a}" for a in AUS) + "\n")
        for i in range(rows):
            rel = f"img/{i // 1000:04d}/{i:07d}.jpg"
            if i % 1000 == 0:
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(bases[i % len(bases)], root / rel)
            fh.write(rel + "," + ",".join(values[i]) + "\n")
    return csv


DRIVER = r"""
import json, sys, time
from distlm.prepare.options import PrepareOptions
from distlm.prepare.plan import remote_plan
from distlm.ray_local import ray_session
src, out = sys.argv[1], sys.argv[2]
opts = PrepareOptions.from_kwargs(detector="none", size=227)
with ray_session("local", 2):
    import ray
    t = time.perf_counter()
    plan = remote_plan({"format": "emotionet", "path": src}, out, opts)
    took = time.perf_counter() - t
hwm = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])  # this process's own peak
print(json.dumps({"plan_s": took, "driver_peak_mb": hwm / 1024,
                  "inputs": plan["inputs"], "parts": plan["parts"]}))
"""


def index(rows_list) -> None:
    print(f"| index rows | plan task s | driver peak RSS MB | pending parts |")
    print("|---:|---:|---:|---:|")
    results = {}
    for rows in rows_list:
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
            t = time.perf_counter()
            csv = emotionet_source(Path(tmp), rows)
            made = time.perf_counter() - t
            res = subprocess.run([sys.executable, "-c", DRIVER, str(csv), str(Path(tmp) / "cache")], cwd=ROOT,
                                 capture_output=True, text=True, timeout=3600)
            if res.returncode:
                sys.exit(res.stderr[-3000:])
            r = json.loads(res.stdout.strip().splitlines()[-1])
            results[rows] = r
            print(f"| {rows:,} | {r['plan_s']:.1f} | {r['driver_peak_mb']:.0f} | {r['parts']:,} |"
                  f"  (source built in {made:.0f} s)", flush=True)
    if len(results) == 2:
        a, b = (results[k]["driver_peak_mb"] for k in sorted(results))
        print(f"\ndriver peak RSS, largest vs smallest: {b / a:.3f}x")


def _cli(src: Path, dst: Path) -> list:
    return [sys.executable, "-m", "distlm.prepare", "--input", str(src), "-o", str(dst), "--detector", "none",
            "--size", "227", "--shard-size", "256", "--actors", "1", "--max-actors", "2",
            "--address", "local", "--num-cpus", "2", "--log-every", "30"]


def _run(src: Path, dst: Path) -> tuple:
    t = time.perf_counter()
    res = subprocess.run(_cli(src, dst), cwd=ROOT, capture_output=True, text=True, timeout=7200)
    if res.returncode:
        sys.exit(res.stderr[-3000:])
    return time.perf_counter() - t, json.loads(res.stdout[res.stdout.index("{"):])


def _manifest(dst: Path) -> list:
    from distlm.prepare import read_manifest

    return [{k: v for k, v in r.items() if k != "shard"} for r in read_manifest(str(dst))]


def resume(images: int) -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        root = Path(tmp)
        bases = base_images(root / "_base")
        src = root / "pool"
        for i in range(images):
            p = src / f"{i // 1000:03d}" / f"{i:06d}.jpg"
            p.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(bases[i % len(bases)], p)
        clean_s, clean = _run(src, root / "clean")
        killed = root / "killed"
        proc = subprocess.Popen(_cli(src, killed), cwd=ROOT, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        blocks = -(-images // 256)
        while len(list((killed / "_manifest").glob("*.parquet"))) < blocks // 2:
            assert proc.poll() is None, "the run ended before half way"
            time.sleep(0.2)
        kill_session(proc.pid)  # the driver and every Ray process it started (their session)
        proc.wait()
        done = len(list((killed / "_manifest").glob("*.parquet")))
        resumed_s, resumed = _run(src, killed)
        reuse_s, reused = _run(src, killed)
        same = _manifest(killed) == _manifest(root / "clean")
        print("| run | wall s | cropped | reused |\n|---|---:|---:|---:|")
        print(f"| clean, {images:,} images | {clean_s:.0f} | {clean['cropped']:,} | {clean['reused']:,} |")
        print(f"| killed at {done}/{blocks} blocks, resumed | {resumed_s:.0f} | {resumed['cropped']:,} | "
              f"{resumed['reused']:,} |")
        print(f"| again on the same cache | {reuse_s:.0f} | {reused['cropped']:,} | {reused['reused']:,} |")
        print(f"\nresumed manifest == clean manifest: {same}; outcomes {resumed['outcomes']}")


def _block_sizes(ds) -> list:
    return [b.num_rows for b in ds.iter_batches(batch_size=None, batch_format="pyarrow")]


def blocks(rows_list) -> None:
    import pyarrow as pa
    import ray
    import ray.data

    from distlm.prepare.layout import PENDING_DIR, Output
    from distlm.prepare.options import PrepareOptions
    from distlm.prepare.plan import plan
    from distlm.prepare.ray_run import pending_dataset

    opts = PrepareOptions.from_kwargs(detector="none")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    print("| index rows | pending parts | stage reader: blocks, largest | read_parquet default: blocks, largest |")
    print("|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        for rows in rows_list:
            ids = [f"images/{i:08d}.jpg" for i in range(rows)]
            index = pa.table({"id": ids, "path": [f"/data/emotionet/{i}" for i in ids]})  # stats: missing files
            out = Path(tmp) / f"out-{rows}"
            made = plan(index, str(out), opts)
            ray.data.DataContext.get_current().use_datasource_v2 = True
            packed = _block_sizes(ray.data.read_parquet(str(out / PENDING_DIR), override_num_blocks=made["parts"]))
            ours = _block_sizes(pending_dataset(Output(str(out)), made["parts"]))
            print(f"| {rows:,} | {made['parts']:,} | {len(ours):,}, {max(ours):,} rows | "
                  f"{len(packed):,}, {max(packed):,} rows |")
    ray.shutdown()


SECTIONS = {"index": lambda a: index(a.rows), "resume": lambda a: resume(a.images), "blocks": lambda a: blocks(a.rows)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="section", required=True)
    sub.add_parser("index").add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    sub.add_parser("resume").add_argument("--images", type=int, default=20_000)
    sub.add_parser("blocks").add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = ap.parse_args()
    SECTIONS[args.section](args)


if __name__ == "__main__":
    main()
