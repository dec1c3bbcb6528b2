"""Checkpoints: one ``state.pt`` file holding everything a run or a predictor needs.

Saved with ``torch.save`` of plain containers (tensors, numbers, strings, lists,
dicts) and always loaded with ``torch.load(..., weights_only=True)``, so a
checkpoint can never execute code. A file without our format marker, or one
that needs arbitrary unpickling, is refused with :class:`CheckpointError`.
"""
from __future__ import annotations

import os
import pickle
from typing import Any, Dict

import torch

from distlm.data.fs import atomic_local
from distlm.errors import UserError

FORMAT = "distlm-checkpoint"
VERSION = 1
STATE_FILE = "state.pt"
AVERAGED_KEY = "model_averaged"   # the weight average (``train.weight_average``), when kept


def inference_weights(state: Dict[str, Any]) -> Dict[str, Any]:
    """The weights to evaluate / predict / export with: the weight average when the
    run kept one (``train.weight_average``), else the trained weights."""
    averaged = state.get(AVERAGED_KEY)
    return state["model"] if averaged is None else averaged


class CheckpointError(UserError, RuntimeError):
    """A checkpoint that is not ours, damaged, or of an unknown version."""


def save_state(directory: str, state: Dict[str, Any]) -> str:
    """Write ``state`` (plus the format marker) to ``directory/state.pt``."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, STATE_FILE)
    with atomic_local(path) as tmp:
        torch.save({"format": FORMAT, "version": VERSION, **state}, tmp)
    return path


def load_state(path: str, map_location: str = "cpu") -> Dict[str, Any]:
    """Load a checkpoint file or directory safely; raise :class:`CheckpointError`.

    ``path`` is ``.../state.pt`` or the directory holding it.
    """
    if os.path.isdir(path):
        path = os.path.join(path, STATE_FILE)
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"{path}: not a distlm checkpoint, or it needs arbitrary code to load "
            f"(refused; only weights are loaded): {first}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a distlm checkpoint (no '{FORMAT}' marker)")
    if state.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {state.get('version')} is not supported "
                              f"(this distlm reads version {VERSION})")
    return state


def norm_dict(norm) -> Dict[str, Any]:
    """How a checkpoint stores the normalisation: ``{"mean": [...], "std": [...]}`` (floats, per channel)."""
    return {"mean": [float(v) for v in norm.mean], "std": [float(v) for v in norm.std]}


def norm_of(state: Dict[str, Any]):
    """The :class:`~distlm.data.loading.NormStats` a checkpoint was trained with."""
    from distlm.data.loading import NormStats

    return NormStats(tuple(state["norm"]["mean"]), tuple(state["norm"]["std"]))
