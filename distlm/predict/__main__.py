"""``python -m distlm.predict CHECKPOINT INPUT... -o results.parquet``.

Inputs: image files, folders (recursive), ``s3://`` prefixes and videos (every
``--every``-th frame). Writes one row per face (``.parquet``, ``.csv``, ``.jsonl`` (a
JSON object per line) or ``.json`` (one array), by extension) and
``<output stem>.errors.csv`` listing every unreadable input with its reason, and every
frame without a face (``reason`` ``no_face``). Rows go to part files as inputs finish;
the results appear, whole, at the end. A rerun with the same output after a stop
skips the inputs already done (``--restart`` starts over).

Exit status: 0 done (faceless or unreadable inputs are reported, not fatal), 2 a
mistake in the command line (one line on stderr): a missing checkpoint or input path,
a file that is not a distlm checkpoint, an unknown detector, an unknown output format,
inputs without a single image or video.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import List, Optional

from distlm.cli.errors import guard, require_checkpoint, require_path
from distlm.cli.grammar import add_output, add_ray, add_s3, output_of, parser
from distlm.predict.defaults import AU_THRESHOLD, FRAME_STEP

PROG = "distlm.predict"
log = logging.getLogger("distlm.predict")


def build_parser() -> argparse.ArgumentParser:
    p = parser(PROG, __doc__)
    p.add_argument("checkpoint", help="distlm checkpoint (state.pt or its folder)")
    p.add_argument("inputs", nargs="+", help="image files, folders, s3:// prefixes, videos")
    add_output(p, "results file: .parquet, .csv, .jsonl or .json")
    p.add_argument("--every", type=int, default=FRAME_STEP, help=f"keep every N-th video frame (default {FRAME_STEP})")
    p.add_argument("--detector", default=None, help="override the checkpoint's detector (mtcnn|haar|none)")
    p.add_argument("--threshold", type=float, default=AU_THRESHOLD, help=f"AU on/off threshold (default {AU_THRESHOLD})")
    p.add_argument("--face-actors", type=int, default=1,
                   help="actors that decode inputs and detect/crop faces, in parallel (default 1)")
    p.add_argument("--model-actors", type=int, default=1,
                   help="actors that run the network on the crops (default 1)")
    p.add_argument("--cpus-per-actor", type=float, default=1.0,
                   help="CPUs reserved per face actor, i.e. its detector's threads (default 1)")
    p.add_argument("--model-cpus", type=float, default=None,
                   help="CPUs reserved per CPU model actor (default: --cpus-per-actor if it fits, "
                        "else what the face actors leave)")
    p.add_argument("--cluster-cpus", type=float, default=None,
                   help="CPUs to plan the actors for on an autoscaling cluster (its maximum; "
                        "default: the CPUs it has now)")
    p.add_argument("--gpus", type=float, default=0.0, help="GPUs per model actor (0: CPU)")
    p.add_argument("--batch-size", type=int, default=64, help="crops per forward pass (default 64)")
    p.add_argument("--items-per-task", type=int, default=4, help="inputs per face-actor call (default 4)")
    p.add_argument("--annotate", default=None, metavar="DIR", help="write copies with boxes and labels here")
    p.add_argument("--rows-per-part", type=int, default=5000,
                   help="rows per part file written while running; the driver holds about this many (default 5000)")
    p.add_argument("--restart", action="store_true",
                   help="discard an unfinished earlier run into the same output instead of resuming it")
    add_s3(p)
    add_ray(p)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    output_of(PROG, args)
    if not args.output:
        p.error("give --output FILE (.parquet, .csv, .jsonl or .json)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return guard(PROG, lambda: _run(args))


def check_args(args: argparse.Namespace) -> None:
    """Everything a user can get wrong, checked before Ray starts."""
    import os

    from distlm.errors import UserError
    from distlm.predict.results import OUTPUT_FORMATS

    require_checkpoint(args.checkpoint)
    for src in args.inputs:
        require_path(src, "input", "give image files, folders, videos or s3:// prefixes")
    if os.path.splitext(args.output)[1].lower() not in OUTPUT_FORMATS:
        raise UserError(f"--output {args.output!r}: unknown format; end it in {', '.join(OUTPUT_FORMATS)}")
    if args.every < 1:
        raise UserError(f"--every {args.every}: must be >= 1 (1 keeps every frame)")
    if args.rows_per_part < 1:
        raise UserError(f"--rows-per-part {args.rows_per_part}: must be >= 1")


def _run(args: argparse.Namespace) -> int:
    check_args(args)
    from distlm.errors import UserError
    from distlm.checkpoint.bundle import load_bundle
    from distlm.predict.inputs import expand_inputs

    load_bundle(args.checkpoint, args.detector)  # a foreign file or an unknown detector: before Ray starts
    storage = {"endpoint_url": args.endpoint_url} if args.endpoint_url else {}
    items = expand_inputs(args.inputs, storage)
    if not items:
        raise UserError(f"{' '.join(args.inputs)}: no images or videos found (check the path and the extensions)")
    log.info("predict: %d inputs", len(items))
    from distlm.predict.to_file import predict_to_file
    from distlm.ray_local import ray_session

    with ray_session(args.address, args.num_cpus):
        res = predict_to_file(args.checkpoint, items, args.output, detector=args.detector, every=args.every,
                              threshold=args.threshold, restart=args.restart, rows_per_part=args.rows_per_part,
                              annotate_dir=args.annotate, storage=storage, face_actors=args.face_actors,
                              model_actors=args.model_actors, cpus_per_actor=args.cpus_per_actor,
                              model_cpus=args.model_cpus, gpus_per_model_actor=args.gpus,
                              cluster_cpus=args.cluster_cpus, batch_size=args.batch_size,
                              items_per_task=args.items_per_task)
    print(json.dumps(res))
    print(f"predict: {res['inputs']} inputs, {res['frames']} frames, {res['faces']} faces; {res['no_face']} frames "
          f"without a face, {res['unreadable']} unreadable (listed in {res['errors']})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
