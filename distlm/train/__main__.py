"""``python -m distlm.train JOB.yaml [section.key=value ...] [--resume CKPT]``.

Examples::

    python -m distlm.train jobs/local-smoke.yaml
    python -m distlm.train jobs/fmnist/lm_ssl_ema.yaml train.epochs=3 scaling.num_workers=2
    ray job submit --address http://127.0.0.1:8265 -- python -m distlm.train jobs/emotionet.yaml
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import List, Optional

from distlm.config import SpecError, load_job


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m distlm.train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("job", help="job spec YAML file")
    ap.add_argument("overrides", nargs="*", help="section.key=value overrides (YAML scalars)")
    ap.add_argument("--resume", help="start from this checkpoint (directory or state.pt)")
    ap.add_argument("--address", help="Ray address (default: RAY_ADDRESS, else a local Ray)")
    ap.add_argument("--print-spec", action="store_true", help="print the resolved spec and exit")
    return ap.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        spec = load_job(args.job, args.overrides)
    except (SpecError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.print_spec:
        from distlm.config import dump_job

        print(dump_job(spec))
        return 0
    from distlm.train.data import RawImagesError, check_sources
    from distlm.train.driver import NoGPUError, run

    try:
        check_sources(spec)  # before Ray starts
        result = run(spec, resume=args.resume, address=args.address)
    except (RawImagesError, NoGPUError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if result.error is not None:
        print(f"error: training failed: {result.error}", file=sys.stderr)
        return 1
    from distlm.train.run_folder import read_stopped

    stopped = read_stopped(spec)
    if stopped:
        print(f"error: training stopped: {stopped}", file=sys.stderr)
        return 1
    metrics = {k: v for k, v in (result.metrics or {}).items() if isinstance(v, (int, float, str))}
    print(json.dumps({"checkpoint": getattr(result.checkpoint, "path", None), "metrics": metrics}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
