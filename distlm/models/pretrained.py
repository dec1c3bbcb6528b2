"""Load weights from a file, safely: ``torch.load(..., weights_only=True)`` only.

Accepts a bare ``state_dict`` or a checkpoint dict holding one under ``model`` or
``state_dict``; strips DDP's ``module.`` prefix. Loads non-strictly and reports what
did not match, so a backbone can be reused under a new head. Never downloads.
"""
from __future__ import annotations

import io
import logging
import pickle
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping

import torch
from torch import nn

log = logging.getLogger(__name__)


@dataclass
class LoadReport:
    """Keys of the model not in the file, keys of the file not in the model, and
    keys present in both with different shapes (skipped)."""

    path: str
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mismatched: List[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.path}: {len(self.missing)} missing, {len(self.unexpected)} unexpected, "
                f"{len(self.mismatched)} shape-mismatched keys"
                + "".join(f"\n  {kind}: {', '.join(keys)}" for kind, keys in
                          (("missing", self.missing), ("unexpected", self.unexpected),
                           ("mismatched", self.mismatched)) if keys))


def _reason(err: BaseException) -> str:
    """The informative line of torch's long weights-only message."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    for line in lines:
        if "Unsupported global" in line:
            return line.split(" Please use")[0].removeprefix("WeightsUnpickler error: ")
    for line in lines:
        if line.startswith("WeightsUnpickler error:"):
            return line.removeprefix("WeightsUnpickler error: ")
    return f"{type(err).__name__}: {lines[0] if lines else ''}"


def read_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """The tensors stored in ``path`` (local or a fsspec URL); ValueError if the file
    holds anything but tensors in (nested) dicts."""
    try:
        if "://" in path:
            import fsspec

            with fsspec.open(path, "rb") as fh:
                obj: Any = torch.load(io.BytesIO(fh.read()), map_location="cpu", weights_only=True)
        else:
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"pretrained weights not found: {path}") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, AttributeError) as err:
        raise ValueError(f"{path}: refused: not a plain state_dict loadable with "
                         f"weights_only=True ({_reason(err)})") from None
    for key in ("model", "state_dict"):
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"{path}: expected a state_dict (names -> tensors), got {type(obj).__name__}")
    return {k.removeprefix("module."): v for k, v in obj.items()}


def load_pretrained(model: nn.Module, path: str) -> LoadReport:
    """Copy matching tensors from ``path`` into ``model``; return and log a `LoadReport`."""
    state = read_state_dict(str(path))
    own = model.state_dict()
    mismatched = sorted(k for k, v in state.items() if k in own and own[k].shape != v.shape)
    usable = {k: v for k, v in state.items() if k not in mismatched}
    result = model.load_state_dict(usable, strict=False)
    report = LoadReport(str(path), sorted(set(result.missing_keys) - set(mismatched)), sorted(result.unexpected_keys), mismatched)
    if report.missing or report.unexpected or report.mismatched:
        log.warning("pretrained %s", report)
    else:
        log.info("pretrained %s: all %d tensors loaded", path, len(usable))
    return report
