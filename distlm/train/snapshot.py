"""Resumable in-process training (``Worker`` without Ray): a snapshot folder.

The Ray path resumes through Ray Train's checkpoints; a ``Worker`` driven directly
(``distlm.demo.run_in_process``, the benchmark driver's ``--no-ray`` runs) uses one
folder per run holding ``state.pt`` (:func:`distlm.checkpoint.state.save_state`,
written atomically) plus the caller's counters (``extra``). Resuming replays exactly:
every epoch reseeds from (seed, rank, epoch) and the state holds the model, optimizer,
scheduler, objective (centroids, thresholds, λ2), teacher and weight average
(``tests/train/test_train_worker.py``).
"""
from __future__ import annotations

import os
from typing import Any, Dict

from distlm.config import spec_to_dict
from distlm.checkpoint.state import STATE_FILE, CheckpointError, load_state, save_state

EXTRA_KEY = "snapshot_extra"
IGNORED = ("run", "telemetry")


def save_snapshot(worker, directory: str, extra: Dict[str, Any]) -> str:
    """Write ``worker``'s state and ``extra`` (plain numbers) to ``directory``."""
    return save_state(directory, {**worker.state(), EXTRA_KEY: dict(extra)})


def resume_snapshot(worker, directory: str) -> Dict[str, Any]:
    """Load ``directory``'s snapshot into ``worker`` if there is one; return its ``extra``
    (``{}`` when starting fresh). A snapshot of another job spec (``run`` and
    ``telemetry`` aside) is refused, naming the first differing key, rather than
    silently continuing a different run."""
    if not os.path.exists(os.path.join(directory, STATE_FILE)):
        return {}
    state = load_state(directory)
    want, got = _maths(spec_to_dict(worker.spec)), _maths(state.get("spec", {}))
    if want != got:
        key = _first_difference(want, got)
        raise CheckpointError(f"{directory}: snapshot of a different job spec (first difference: {key}); "
                              "remove the folder to start this run afresh")
    worker.load(state)
    return dict(state.get(EXTRA_KEY, {}))


def _maths(tree: Dict[str, Any]) -> Dict[str, Any]:
    """The spec without the sections that do not change what is trained (``run``:
    names, storage, checkpoint cadence; ``telemetry``)."""
    return {k: v for k, v in tree.items() if k not in IGNORED}


def _first_difference(a: Any, b: Any, prefix: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return _first_difference(a.get(k), b.get(k), f"{prefix}{k}.")
    return prefix.rstrip(".") or "<root>"
