"""``python -m distlm.export CHECKPOINT model.onnx [--torchscript model.pt]``.

Exit status 0 on success, 2 for a file that is not a distlm checkpoint.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m distlm.export", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", help="distlm checkpoint (state.pt or its folder)")
    p.add_argument("onnx", nargs="?", default=None, help="ONNX file to write")
    p.add_argument("--torchscript", default=None, metavar="PT", help="also/instead write TorchScript here")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    args = p.parse_args(argv)
    if not args.onnx and not args.torchscript:
        p.error("give an ONNX path and/or --torchscript PT")
    from distlm.export.onnx import export_onnx, export_torchscript
    from distlm.train.checkpoint import CheckpointError

    try:
        if args.onnx:
            print(export_onnx(args.checkpoint, args.onnx, args.opset))
        if args.torchscript:
            print(export_torchscript(args.checkpoint, args.torchscript))
    except CheckpointError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
