"""An exponential moving average of a network's weights.

``θ_t ← m·θ_t + (1 − m)·θ`` after every optimiser step (buffers such as BatchNorm
statistics are copied). Two uses in the trainer: the EMA *teacher* whose outputs give
the self-labels (``selflabel.teacher: ema``) and the *weight average* that is evaluated
and exported (``train.weight_average``). Every rank updates from identical
(DDP-averaged) weights, so the copies agree without communication.
"""
from __future__ import annotations

import copy

import torch
from torch import nn


class EMAWeights(nn.Module):
    """A frozen copy of ``model`` (unwrapped from DDP), updated by :meth:`update`.

    ``forward(x)`` runs the copy in eval mode without a graph: images (B, C, H, W) →
    the model's output (``ModelOutput``: embedding (B, D), logits (B, K)).
    """

    def __init__(self, model: nn.Module, momentum: float = 0.999):
        super().__init__()
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"EMA momentum must be in [0, 1), got {momentum}")
        self.momentum = momentum
        self.model = copy.deepcopy(getattr(model, "module", model)).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        src = getattr(model, "module", model)
        for t, s in zip(self.model.parameters(), src.parameters()):
            t.mul_(self.momentum).add_(s.detach(), alpha=1.0 - self.momentum)
        for t, s in zip(self.model.buffers(), src.buffers()):
            t.copy_(s)

    @torch.no_grad()
    def forward(self, x: torch.Tensor):
        return self.model(x)

    def train(self, mode: bool = True):  # the copy always predicts in eval mode
        super().train(mode)
        self.model.eval()
        return self
