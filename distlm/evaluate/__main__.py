"""``python -m distlm.evaluate CHECKPOINT JOB.yaml [--out DIR]``.

Prints the paper's metrics as a table (table 1 layout for expressions, table 2
for AUs), writes ``metrics.json``/``metrics.csv`` and PNG plots (confusion
matrix, 2-D embedding with centroids, losses and centroid movement over
training, per-AU F1) to ``--out`` (default: ``eval/`` beside the checkpoint).
``CHECKPOINT`` is a checkpoint directory, its ``state.pt``, or an ``s3://`` URL.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from distlm.config import SpecError, load_job
from distlm.train.checkpoint import CheckpointError


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m distlm.evaluate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="distlm checkpoint (state.pt or its folder, local or s3://)")
    ap.add_argument("job", help="job spec YAML (its data.test is evaluated)")
    ap.add_argument("overrides", nargs="*", help="section.key=value overrides")
    ap.add_argument("--out", help="output folder (default: <checkpoint>/eval)")
    ap.add_argument("--device", default="cuda" if _cuda() else "cpu", help="torch device (default: cuda if present)")
    ap.add_argument("--method", help="row name in the table (default: the job name)")
    args = ap.parse_args(argv)
    from distlm.evaluate.run import evaluate_checkpoint

    try:
        spec = load_job(args.job, args.overrides)
        out = args.out or os.path.join(args.checkpoint if "://" not in args.checkpoint else ".", "eval")
        res = evaluate_checkpoint(args.checkpoint, spec, out, args.device, args.method)
    except (SpecError, CheckpointError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(res["table"])
    for name, path in res["files"].items():
        print(f"{name}: {path}")
    return 0


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


if __name__ == "__main__":
    sys.exit(main())
