"""Loss weights ``λ1, λ2`` for ``L = λ1·L_S + λ2·L_M`` (eq. 4 and 7).

Every rule is a module with buffers (saved in ``state_dict``), called as
``rule.observe(l_s, l_m)`` after each step with the detached loss values and
``rule.weights(step) -> (λ1, λ2)`` before it. Neither reads a device value on the host:
``λ2`` of the auto rule is returned as its 0-dim device buffer, so a training step
never waits for the GPU here.
"""
from __future__ import annotations

import math
from typing import Optional, Tuple, Union

import torch
from torch import nn

from distlm.distributed import all_reduce_sum, world_size
from distlm.weighting.registry import WEIGHTINGS


class LossWeighting(nn.Module):
    """Base: fixed ``λ1, λ2``; subclasses change ``λ2`` over training."""

    def __init__(self, lambda1: float = 1.0, lambda2: float = 1.0):
        super().__init__()
        self.lambda1, self.lambda2 = float(lambda1), float(lambda2)
        self.register_buffer("lambda2_now", torch.tensor(float(lambda2), dtype=torch.float64))

    def weights(self, step: int) -> Tuple[float, Union[float, torch.Tensor]]:
        return self.lambda1, self.lambda2

    def observe(self, l_s: torch.Tensor, l_m: torch.Tensor) -> None:
        """Record this step's detached losses (no-op for fixed weights)."""


@WEIGHTINGS.register("fixed")
class FixedWeighting(LossWeighting):
    """Constant ``λ1, λ2``."""


@WEIGHTINGS.register("auto")
class AutoBalance(LossWeighting):
    """The paper's balance ``λ1·L_S ≈ ratio·λ2·|L_M|`` (ratio 0.8 in the paper).

    Running means (EMA, ``momentum``) of ``|L_S|`` and ``|L_M|`` are kept from the
    detached losses, averaged over the process group each step so every worker
    holds the same ``λ2 = λ1·mean|L_S| / (ratio·mean|L_M|)``. With
    ``freeze_after`` set, ``λ2`` is held after that many steps (a λ2 recomputed
    forever fades the auxiliary term once ``L_S`` is memorised). ``max_lambda2``
    caps it when ``|L_M|`` approaches 0.
    """

    def __init__(self, lambda1: float = 1.0, lambda2: float = 1.0, ratio: float = 0.8,
                 momentum: float = 0.99, freeze_after: Optional[int] = None,
                 max_lambda2: float = 100.0, group: Optional[object] = None):
        super().__init__(lambda1, lambda2)
        if ratio <= 0:
            raise ValueError(f"auto weighting ratio must be > 0, got {ratio}")
        self.ratio, self.momentum, self.freeze_after = ratio, momentum, freeze_after
        self.max_lambda2, self.group = max_lambda2, group
        self.register_buffer("mean_ls", torch.zeros((), dtype=torch.float64))
        self.register_buffer("mean_lm", torch.zeros((), dtype=torch.float64))
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))
        self._steps_seen: Optional[int] = 0  # host copy of ``steps``, read once after a restore

    def _load_from_state_dict(self, *args, **kwargs):
        super()._load_from_state_dict(*args, **kwargs)
        self._steps_seen = None

    def weights(self, step: int) -> Tuple[float, torch.Tensor]:
        return self.lambda1, self.lambda2_now.clone()  # the step reads it before observe() updates it

    @torch.no_grad()
    def observe(self, l_s: torch.Tensor, l_m: torch.Tensor) -> None:
        if self._steps_seen is None:
            self._steps_seen = int(self.steps)
        if self.freeze_after is not None and self._steps_seen >= self.freeze_after:
            return
        # each rank holds its share of the global batch's loss (their mean is the loss of
        # one process on the whole batch): average the signed values, then take |.|
        # (a per-rank |.| first differs from one process once the ranks' signs differ)
        vals = torch.stack([l_s.detach().double(), l_m.detach().double()])
        (vals,) = all_reduce_sum((vals,), self.group)
        vals = (vals / world_size(self.group)).abs().to(self.mean_ls)
        m = self.momentum if self._steps_seen > 0 else 0.0
        self.mean_ls.mul_(m).add_((1 - m) * vals[0])
        self.mean_lm.mul_(m).add_((1 - m) * vals[1])
        self.steps += 1
        self._steps_seen += 1
        lam = (self.lambda1 * self.mean_ls / (self.ratio * self.mean_lm)).clamp(max=self.max_lambda2)
        self.lambda2_now.copy_(torch.where(self.mean_lm > 0, lam, self.lambda2_now))


# decay shapes: fraction of (start - final) left at progress t in [0, 1]
SCHEDULES = {
    "linear": lambda t: 1.0 - t,
    "cosine": lambda t: 0.5 * (1.0 + math.cos(math.pi * t)),
}


@WEIGHTINGS.register("schedule")
class ScheduledWeighting(LossWeighting):
    """``λ2`` decreasing from ``lambda2`` to ``final`` over ``total_steps``
    (the paper's decreasing ``λ4``: good embeddings form early), ``kind`` =
    ``linear`` | ``cosine`` | ``exp``; held at ``final`` afterwards."""

    def __init__(self, lambda1: float = 1.0, lambda2: float = 1.0, final: float = 0.0,
                 total_steps: int = 1000, kind: str = "cosine"):
        super().__init__(lambda1, lambda2)
        if kind not in (*SCHEDULES, "exp"):
            raise ValueError(f"unknown schedule kind {kind!r}; known: {sorted([*SCHEDULES, 'exp'])}")
        if total_steps <= 0:
            raise ValueError(f"schedule total_steps must be > 0, got {total_steps}")
        self.start, self.final, self.total_steps, self.kind = float(lambda2), float(final), total_steps, kind

    def weights(self, step: int) -> Tuple[float, float]:
        t = min(max(step, 0) / self.total_steps, 1.0)
        if self.kind == "exp":
            if self.start <= 0 or self.final <= 0:
                raise ValueError("exp schedule needs lambda2 > 0 and final > 0")
            lam = self.start * (self.final / self.start) ** t
        else:
            lam = self.final + (self.start - self.final) * SCHEDULES[self.kind](t)
        self.lambda2_now.fill_(lam)
        return self.lambda1, lam
