"""The step budget of a run: how many steps an epoch takes, resolved once, logged and stored.

An epoch is ``train.steps_per_epoch`` steps when the spec sets it, exactly: when the
epoch-defining side (the labelled set by default) holds fewer full global batches, it
goes on through further reshuffled passes within the epoch, as semi-supervised
trainers count iterations (10 labels per class and a labelled batch of 100 is one
batch per pass, and a spec asking for 100 steps per epoch runs 100). Without it an
epoch is one pass of that side. The resolved budget is logged at the start and
written beside the checkpoints as ``budget.json``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Dict, Optional

BUDGET_FILE = "budget.json"


@dataclass(frozen=True)
class Budget:
    """``epochs`` × ``steps_per_epoch`` steps; the defining side has ``rows`` rows and
    ``global_batch`` of them enter each step."""

    epochs: int
    steps_per_epoch: int
    side: str
    rows: int
    global_batch: int

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def batches_per_pass(self) -> int:
        return self.rows // self.global_batch

    @property
    def passes_per_epoch(self) -> float:
        return self.steps_per_epoch / self.batches_per_pass

    def describe(self) -> str:
        """One line: the resolved count and where it comes from."""
        how = (f"one pass of the {self.side} set" if self.steps_per_epoch == self.batches_per_pass
               else f"the {self.side} set cycles {self.passes_per_epoch:.3g} passes per epoch"
               if self.steps_per_epoch > self.batches_per_pass
               else f"{self.passes_per_epoch:.3g} of a pass of the {self.side} set per epoch")
        return (f"budget: {self.total_steps} steps = {self.epochs} epochs x {self.steps_per_epoch} steps "
                f"({self.side}: {self.rows} rows, {self.global_batch} per step, {self.batches_per_pass} "
                f"full batches per pass; {how})")

    def to_dict(self) -> Dict[str, Any]:
        return {**asdict(self), "total_steps": self.total_steps, "passes_per_epoch": self.passes_per_epoch}


def resolve_budget(epochs: int, steps_per_epoch: Optional[int], side: str, rows: int, global_batch: int) -> Budget:
    """The :class:`Budget` of a spec (``steps_per_epoch`` None: one pass of ``side``).

    Raises:
        ValueError: when ``side`` holds fewer than one global batch.
    """
    from distlm.data.loading.indices import steps_in_epoch

    return Budget(epochs, steps_in_epoch(rows, global_batch, steps_per_epoch, side), side, rows, global_batch)


def write_budget(spec, budget: Budget) -> str:
    """``budget.json`` in the run's folder (local or ``s3://``)."""
    from distlm.data.fs import write_text
    from distlm.train.run_folder import run_file, run_storage

    return write_text(run_file(spec, BUDGET_FILE), json.dumps(budget.to_dict(), indent=2), run_storage(spec))
