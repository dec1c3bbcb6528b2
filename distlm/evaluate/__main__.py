"""``python -m distlm.evaluate CHECKPOINT [JOB.yaml] [--set KEY=VALUE ...] [-o DIR]``.

Prints the paper's metrics as a table (table 1 layout for expressions, table 2
for AUs), writes ``metrics.json``/``metrics.csv`` and PNG plots (confusion
matrix, 2-D embedding with centroids, losses and centroid movement over
training, per-AU F1) to ``--output`` (default: ``eval/`` beside the checkpoint).
``CHECKPOINT`` is a checkpoint directory, its ``state.pt``, or an ``s3://`` URL. The
job defaults to the one the checkpoint was trained with (its ``data.test`` is
evaluated); give ``JOB.yaml`` to evaluate on another test set.

Exit status: 0 evaluated, 2 a mistake in the command line, the job or the checkpoint.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from distlm.cli.errors import guard, require_checkpoint, require_path
from distlm.cli.grammar import add_output, add_overrides, add_s3, legacy_overrides, output_of, parser

PROG = "distlm.evaluate"


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    ap = parser(PROG, __doc__)
    ap.add_argument("checkpoint", help="distlm checkpoint (state.pt or its folder, local or s3://)")
    ap.add_argument("job", nargs="?", help="job spec YAML whose data.test is evaluated (default: the checkpoint's)")
    ap.add_argument("legacy", nargs="*", metavar="KEY=VALUE", help=argparse.SUPPRESS)
    add_overrides(ap)
    add_output(ap, "output folder (default: <checkpoint>/eval)")
    ap.add_argument("--device", default=None, help="torch device (default: cuda if present, else cpu)")
    ap.add_argument("--method", help="row name in the table (default: the job name)")
    add_s3(ap)
    args = ap.parse_args(argv)
    if args.job and "=" in args.job and not args.job.endswith((".yaml", ".yml")):
        args.legacy.insert(0, args.job)  # CHECKPOINT key=value: no job given
        args.job = None
    args.overrides = legacy_overrides(PROG, args.legacy) + args.overrides
    output_of(PROG, args)
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return guard(PROG, lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    require_checkpoint(args.checkpoint)
    if args.job:
        require_path(args.job, "job spec", "give a job YAML file, or leave it out to use the checkpoint's")
    import torch

    from distlm.config import load_job
    from distlm.evaluate.run import evaluate_checkpoint

    spec = load_job(args.job, args.overrides) if args.job else None
    out = args.output or os.path.join(args.checkpoint if "://" not in args.checkpoint else ".", "eval")
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    storage = {"endpoint_url": args.endpoint_url} if args.endpoint_url else None
    res = evaluate_checkpoint(args.checkpoint, spec, out, device, args.method, storage=storage,
                              overrides=args.overrides)
    print(res["table"])
    for name, path in res["files"].items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
