"""Arguments every command spells the same way.

``argparse`` (standard library): nothing to install, and it imports in milliseconds,
so ``--help`` answers before torch or Ray are loaded (each command imports them after
parsing). A third-party CLI library would add a dependency for no feature we need.

- ``--set KEY=VALUE`` (repeatable): a job-spec override, ``section.key=value`` with a
  YAML scalar or flow value (``--set train.epochs=3 --set "model.options={width: 8}"``).
- ``-o/--output PATH``: where the command writes (a folder or a file, by command).
- ``--address``, ``--num-cpus``: the Ray cluster (default: a running one from
  ``RAY_ADDRESS``, else a local one on 127.0.0.1).
- ``--endpoint-url``: an S3-compatible endpoint for ``s3://`` paths.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional, Sequence


def parser(prog: str, doc: Optional[str]) -> argparse.ArgumentParser:
    """A parser whose description is the module docstring, examples kept as written."""
    return argparse.ArgumentParser(prog=f"python -m {prog}", description=doc,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def add_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="job spec override, section.key=value (repeatable)")


def add_output(p: argparse.ArgumentParser, what: str) -> None:
    """``-o/--output`` (and the older ``--out``, hidden; :func:`output_of` resolves both)."""
    p.add_argument("-o", "--output", metavar="PATH", help=what)
    p.add_argument("--out", dest="output_legacy", help=argparse.SUPPRESS)


def output_of(prog: str, args: argparse.Namespace) -> None:
    """Fold a deprecated ``--out`` into ``args.output``, with a one-line notice."""
    old = getattr(args, "output_legacy", None)
    if old:
        print(f"{prog}: note: --out is deprecated; write --output {old}", file=sys.stderr)
        args.output = args.output or old


def add_ray(p: argparse.ArgumentParser) -> None:
    p.add_argument("--address", default=None,
                   help="Ray address (default: RAY_ADDRESS or a running cluster, else a local one)")
    p.add_argument("--num-cpus", type=int, default=None, help="CPUs of a new local Ray instance")


def add_s3(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint-url", default=None, help="S3 endpoint for s3:// paths (e.g. http://127.0.0.1:9000)")


def legacy_overrides(prog: str, positional: Sequence[str]) -> List[str]:
    """Positional ``key=value`` overrides of older command lines, still honoured, with a
    one-line notice naming the spelling to use."""
    if positional:
        sets = " ".join(f"--set {o}" for o in positional)
        print(f"{prog}: note: positional overrides are deprecated; write {sets}", file=sys.stderr)
    return list(positional)


def add_training_run(p: argparse.ArgumentParser) -> None:
    """What every trainer entry takes (``distlm.train`` and its ``torchrun`` form): the job,
    ``--set``, ``-o`` (the run folder root) and ``--resume``."""
    p.add_argument("job", help="job spec YAML file")
    p.add_argument("legacy", nargs="*", metavar="KEY=VALUE", help=argparse.SUPPRESS)
    add_overrides(p)
    add_output(p, "run folder root: checkpoints land in OUTPUT/<run name>/ (default: the job's run.storage_path)")
    p.add_argument("--resume", help="start from this checkpoint (directory or state.pt)")


def training_overrides(prog: str, args: argparse.Namespace) -> argparse.Namespace:
    """``args.overrides`` of :func:`add_training_run`: positional ones (with a notice), then
    ``--set``, then ``-o`` as ``run.storage_path``."""
    output_of(prog, args)
    args.overrides = legacy_overrides(prog, args.legacy) + args.overrides
    if args.output:
        args.overrides.append(f"run.storage_path={args.output}")
    return args
