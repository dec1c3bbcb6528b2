"""``python -m distlm.train JOB.yaml [--set KEY=VALUE ...] [--resume CKPT] [-o RUNS]``.

Examples::

    python -m distlm.train jobs/local-smoke.yaml
    python -m distlm.train jobs/fmnist/lm_ssl_ema.yaml --set train.epochs=3 --set scaling.num_workers=2
    ray job submit --address http://127.0.0.1:8265 -- python -m distlm.train jobs/emotionet.yaml

Exit status: 0 trained, 1 training failed or stopped (non-finite loss), 2 a mistake in
the command line or the job (one line on stderr naming it).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import List, Optional

from distlm.cli.errors import guard, require_checkpoint
from distlm.cli.grammar import add_training_run, parser, training_overrides

PROG = "distlm.train"


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    ap = parser(PROG, __doc__)
    add_training_run(ap)
    ap.add_argument("--address", help="Ray address (default: RAY_ADDRESS, else a local Ray)")
    ap.add_argument("--print-spec", action="store_true", help="print the resolved spec and exit")
    return training_overrides(PROG, ap.parse_args(argv))


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return guard(PROG, lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from distlm.config import load_job

    spec = load_job(args.job, args.overrides)
    if args.print_spec:
        from distlm.config import dump_job

        print(dump_job(spec))
        return 0
    from distlm.models.factory import check_options
    from distlm.data.sources import check_sources

    check_options(spec.model.name, spec.model.options)
    require_checkpoint(args.resume, "--resume")
    check_sources(spec, crop_stage=True)  # raw-image sources: the crop stage runs first
    from distlm.telemetry.sinks import check_sinks

    check_sinks(spec)  # all before Ray starts
    from distlm.train.driver import run

    result = run(spec, resume=args.resume, address=args.address)
    if result.error is not None:
        print(f"{PROG}: error: training failed: {result.error}", file=sys.stderr)
        return 1
    from distlm.train.run_folder import read_stopped

    stopped = read_stopped(spec)
    if stopped:
        print(f"{PROG}: error: training stopped: {stopped}", file=sys.stderr)
        return 1
    metrics = {k: v for k, v in (result.metrics or {}).items() if isinstance(v, (int, float, str))}
    print(json.dumps({"checkpoint": getattr(result.checkpoint, "path", None), "metrics": metrics}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
