"""A worker's per-step values, kept on the device and read on the host in one go.

A training step that turned its loss terms into Python floats would wait for the GPU
every step. :class:`StepMetrics` instead keeps each step's 0-dim device tensors (loss
terms, λ, self-label confidence and kept ratio, whether the gradients were finite)
and the self-label histogram summed on the device; :meth:`StepMetrics.read` moves them
all to the host with a single copy, every ``telemetry.log_every`` / ``train.log_every``
steps and at the end of each epoch. Every rank reads at the same steps.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import torch


@dataclass
class Window:
    """What one read returns: per-step rows (``{"step": s, term: value, ...}``, floats),
    the summed self-label histogram (ints, or None), the first step whose gradients were
    not finite (None when all were), the images and seconds of data wait per step."""

    rows: List[Dict[str, float]]
    hist: Optional[List[int]]
    first_bad_step: Optional[int]
    images: int
    waits: List[float] = field(default_factory=list)


class StepMetrics:
    """Accumulates steps (``add``) until a read (``due`` / ``read``)."""

    def __init__(self, every: int, log_every: int):
        self.every, self.log_every = max(int(every), 1), max(int(log_every), 1)
        self._steps: List[int] = []
        self._names: Optional[List[str]] = None
        self._values: List[torch.Tensor] = []
        self._hist: Optional[torch.Tensor] = None
        self._images, self._waits = 0, []

    def __len__(self) -> int:
        return len(self._steps)

    def add(self, step: int, terms: Dict[str, torch.Tensor], finite: torch.Tensor,
            conf: Optional[torch.Tensor] = None, kept: Optional[torch.Tensor] = None,
            hist: Optional[torch.Tensor] = None, images: int = 0, wait: float = 0.0) -> None:
        """Record step ``step``: device tensors only, nothing is read here."""
        extra = {"selflabel_conf": conf, "selflabel_kept": kept}
        names = sorted(terms) + sorted(extra)
        if self._names is None:
            self._names = names
        elif names != self._names:
            raise ValueError(f"step {step}: terms {names} differ from the window's {self._names}")
        like = finite
        vals = [terms[k] for k in sorted(terms)] + [like.new_full((), math.nan, dtype=torch.float64)
                                                   if v is None else v for v in (conf, kept)]
        self._values.append(torch.stack([v.detach().to(like.device, torch.float64).reshape(()) for v in vals]
                                        + [finite.to(torch.float64).reshape(())]))
        if hist is not None:
            h = hist.detach().to(torch.float64)
            self._hist = h if self._hist is None else self._hist + h
        self._steps.append(int(step))
        self._images += int(images)
        self._waits.append(float(wait))

    def due(self, step: int) -> bool:
        """A read is due at multiples of either cadence."""
        return step % self.every == 0 or step % self.log_every == 0

    def read(self) -> Optional[Window]:
        """Everything since the last read, in one device-to-host copy (None if empty)."""
        if not self._steps:
            return None
        flat = torch.stack(self._values)
        n_hist = 0 if self._hist is None else self._hist.numel()
        parts = [flat.reshape(-1)] + ([self._hist.to(flat.device)] if self._hist is not None else [])
        host = torch.cat(parts).tolist()  # the one read
        width = flat.shape[1]
        rows, bad = [], None
        for i, step in enumerate(self._steps):
            vals = host[i * width:(i + 1) * width]
            rows.append({"step": step, **dict(zip(self._names, vals[:-1]))})
            if bad is None and vals[-1] < 0.5:
                bad = step
        hist = [int(round(v)) for v in host[len(self._steps) * width:]] if n_hist else None
        window = Window(rows, hist, bad, self._images, self._waits)
        self._steps, self._values, self._hist, self._images, self._waits = [], [], None, 0, []
        return window
