"""``python -m distlm.export CHECKPOINT -o model.onnx [--torchscript model.pt]``.

The output's extension picks the format: ``.onnx`` (ONNX, dynamic batch) or ``.pt``
(traced TorchScript); ``--torchscript PT`` writes a TorchScript copy beside an ONNX one.
Both carry the preprocessing constants (mean, std, image size, class names / AU ids,
crop settings) as metadata.

Exit status: 0 written, 2 a mistake in the command line or a file that is not a
distlm checkpoint.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from distlm.cli.errors import guard, require_checkpoint
from distlm.cli.grammar import add_output, output_of, parser

PROG = "distlm.export"
FORMATS = {".onnx": "onnx", ".pt": "torchscript", ".ts": "torchscript"}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = parser(PROG, __doc__)
    p.add_argument("checkpoint", help="distlm checkpoint (state.pt or its folder)")
    p.add_argument("legacy_onnx", nargs="?", default=None, help=argparse.SUPPRESS)
    add_output(p, "file to write: .onnx (ONNX) or .pt (TorchScript)")
    p.add_argument("--torchscript", default=None, metavar="PT", help="also write TorchScript here")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    args = p.parse_args(argv)
    output_of(PROG, args)
    if args.legacy_onnx:
        print(f"{PROG}: note: a positional output is deprecated; write --output {args.legacy_onnx}", file=sys.stderr)
        args.output = args.output or args.legacy_onnx
    if not args.output and not args.torchscript:
        p.error("give --output FILE (.onnx or .pt)")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return guard(PROG, lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    import os

    from distlm.errors import UserError

    require_checkpoint(args.checkpoint)
    jobs = [(args.output, FORMATS.get(os.path.splitext(args.output)[1].lower()))] if args.output else []
    jobs += [(args.torchscript, "torchscript")] if args.torchscript else []
    for path, fmt in jobs:
        if fmt is None:
            raise UserError(f"--output {path!r}: unknown format; end it in {', '.join(FORMATS)}")
    from distlm.export.onnx import export_onnx, export_torchscript

    for path, fmt in jobs:
        print(export_onnx(args.checkpoint, path, args.opset) if fmt == "onnx" else export_torchscript(args.checkpoint, path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
