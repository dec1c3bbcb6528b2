"""``python -m distlm.prepare JOB.yaml -o DST [--set KEY=VALUE ...]`` or
``python -m distlm.prepare --input SRC -o DST [--detector mtcnn] [--size 227] ...``.

Job mode also writes ``DST/job.yaml``: the resolved job (overrides included) with each
source pointing at its crops, so ``python -m distlm.train DST/job.yaml`` trains on them.

Exit status 0 when every input is accounted for in the manifest (some may be
``no_face``/``unreadable``), 2 on a mistake in the command line (one line on stderr):
a missing path, an unknown detector or order, a bad job key, an input without
images, an incompatible earlier output.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import List, Optional

from distlm.cli.errors import guard, require_path
from distlm.cli.grammar import add_output, add_overrides, add_ray, add_s3, output_of, parser

PROG = "distlm.prepare"
#: ``distlm.faces.CropOptions``' defaults, spelled out so ``--help`` imports nothing heavy
#: (a test keeps them equal).
CROP_DEFAULTS = argparse.Namespace(size=227, margin=0.1, max_side=640, detect_batch=8)


def build_parser() -> argparse.ArgumentParser:
    crop = CROP_DEFAULTS
    p = parser(PROG, __doc__)
    p.add_argument("job", nargs="?", help="job spec YAML: prepares its data.labelled/unlabelled/test sources")
    p.add_argument("--input", help="folder or s3:// prefix of images (unlabelled tree)")
    p.add_argument("--format", default=None, help="reader for --input (default: images); see distlm.data")
    add_output(p, "output folder or s3:// prefix (job mode: one sub-folder per source)")
    add_overrides(p)
    p.add_argument("--detector", default="mtcnn", help="face detector: mtcnn (default), haar, none")
    p.add_argument("--size", type=int, default=crop.size,
                   help=f"side of the square crops in pixels (default {crop.size})")
    p.add_argument("--margin", type=float, default=crop.margin,
                   help=f"crop side = max(w, h) * (1 + 2 * margin) around the box centre (default {crop.margin})")
    p.add_argument("--choose", default="largest",
                   help="which face to keep when there are several: largest (default), most_confident")
    p.add_argument("--align", action="store_true", help="level the eyes (MTCNN landmarks)")
    p.add_argument("--max-side", type=int, default=crop.max_side,
                   help=f"detect on a copy downscaled to this longest side (default {crop.max_side}); "
                        "crops come from the full image")
    p.add_argument("--detect-batch", type=int, default=crop.detect_batch,
                   help=f"images per detector call (default {crop.detect_batch})")
    p.add_argument("--actors", type=int, default=1, help="face-crop actors, one detector each (default 1)")
    p.add_argument("--max-actors", type=int, default=None,
                   help="autoscale the actors from --actors up to this many (default: a fixed pool of --actors)")
    p.add_argument("--cpus-per-actor", type=float, default=1.0, help="CPUs reserved per actor (default 1)")
    p.add_argument("--gpus-per-actor", type=float, default=0.0, help="GPUs per actor (default 0)")
    p.add_argument("--shard-size", type=int, default=256,
                   help="inputs per block: one Parquet shard and one manifest part (default 256)")
    p.add_argument("--order", default="mixed",
                   help="spread of the inputs over the shards: mixed (hash of the id) or id")
    p.add_argument("--max-pixels", type=int, default=None,
                   help="decompression-bomb cap per image (default 100,000,000)")
    p.add_argument("--alpha", default="black", choices=["black", "white", "drop"],
                   help="transparent images: composite on black or white, or drop the alpha channel")
    p.add_argument("--draft", action="store_true",
                   help="decode large JPEGs reduced for detection (faster decoding; crops may differ slightly "
                        "from predict's)")
    add_ray(p)
    p.add_argument("--metrics-port", type=int, default=None, help="Prometheus port (0 off, -1 any free)")
    p.add_argument("--metrics-linger", type=float, default=0.0, metavar="SECONDS",
                   help="keep serving the metrics after the run, up to SECONDS (SIGTERM ends it; default 0)")
    add_s3(p)
    p.add_argument("--log-every", type=float, default=10.0, help="seconds between progress lines")
    p.add_argument("--overwrite", action="store_true", help="replace an incompatible previous run")
    return p


def _options(args: argparse.Namespace, storage: dict, size: Optional[int] = None) -> dict:
    opts = dict(detector=args.detector, size=size or args.size, margin=args.margin, choose=args.choose,
                align=args.align, max_side=args.max_side, detect_batch=args.detect_batch, actors=args.actors,
                max_actors=args.max_actors, cpus_per_actor=args.cpus_per_actor, gpus_per_actor=args.gpus_per_actor, shard_size=args.shard_size, order=args.order, alpha=args.alpha, draft=args.draft,
                address=args.address, num_cpus=args.num_cpus, metrics_port=args.metrics_port,
                metrics_linger_s=args.metrics_linger,
                log_every_s=args.log_every, overwrite=args.overwrite, storage=storage)
    if args.max_pixels:
        opts["max_pixels"] = args.max_pixels
    return opts


def main(argv: Optional[List[str]] = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    output_of(PROG, args)
    if bool(args.job) == bool(args.input) or not args.output:
        p.error("give either JOB.yaml or --input SRC, and --output DST")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return guard(PROG, lambda: _run(args), also=(ValueError, KeyError))  # readers name the file and line


def check_names(args: argparse.Namespace) -> None:
    """Unknown detector, chooser or order: one line naming the known ones (before any work)."""
    from distlm.faces.registry import CHOOSERS, DETECTORS
    from distlm.prepare.order import ORDERS

    DETECTORS.get(args.detector)
    CHOOSERS.get(args.choose)
    ORDERS.get(args.order)


def _run(args: argparse.Namespace) -> int:
    if args.job:
        require_path(args.job, "job spec", "give a job YAML file")
    else:
        require_path(args.input, "--input", "give a folder of images or an s3:// prefix")
    check_names(args)
    from distlm.prepare.runner import prepare

    storage = {"endpoint_url": args.endpoint_url} if args.endpoint_url else {}
    if args.input:
        source = {"format": args.format, "path": args.input} if args.format else args.input
        summary = prepare(source, args.output, **_options(args, storage))
        print(json.dumps(summary, indent=2))
        return 0
    from distlm.prepare.job import job_sources, role_output, write_prepared_job

    sources, job_storage, spec = job_sources(args.job, args.overrides)
    storage = {**job_storage, **storage}
    for role, source in sources:
        dst = role_output(args.output, role, storage)
        summary = prepare(source, dst, **_options(args, storage, size=spec.data.image_size))
        print(json.dumps({role: summary}, indent=2))
    job = write_prepared_job(spec, args.output, [role for role, _ in sources], storage)
    print(f"the job on its crops: {job}\n  python -m distlm.train {job}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
