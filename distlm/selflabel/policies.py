"""Trustworthy self-labels: confidence-threshold policies and distribution
alignment, each a small module with its state in buffers (saved, synced).

Registries:
    THRESHOLDS: ``fixed`` (one τ, or none), ``flexmatch`` (class-adaptive, Zhang et
        al. 2021: classes the model already predicts confidently get stricter
        thresholds, the others looser ones).
    ALIGNMENTS: ``none``, ``uniform``, ``labelled`` (ReMixMatch's distribution
        alignment: scale the scores by target / running mean prediction, so no
        class swallows the unlabelled pool).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from distlm.distributed import all_reduce_sum, world_size
from distlm.registry import Registry

THRESHOLDS: Registry = Registry("self-label threshold policy")
ALIGNMENTS: Registry = Registry("distribution alignment")


@THRESHOLDS.register("fixed")
class FixedThreshold(nn.Module):
    """``τ`` for every class (``None``: keep every self-label)."""

    def __init__(self, num_classes: int, threshold: Optional[float] = None, **_):
        super().__init__()
        self.tau = threshold

    def thresholds(self, device=None) -> torch.Tensor:
        return torch.full((1,), 0.0 if self.tau is None else self.tau, device=device)

    def forward(self, conf: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``(B,)`` bool mask of kept self-labels."""
        return torch.ones_like(labels, dtype=torch.bool) if self.tau is None else conf >= self.tau


@THRESHOLDS.register("flexmatch")
class FlexMatchThreshold(nn.Module):
    """Class-adaptive thresholds ``T_c = τ · β_c / (2 − β_c)``.

    ``σ_c`` counts (with decay ``decay`` per step) unlabelled predictions of class
    ``c`` above ``τ``; ``u`` those below. ``β_c = σ_c / max(max_k σ_k, u)``: early on
    (most predictions unconfident) every class has a low threshold; a class the
    model learns well gets close to ``τ``. Counts are summed over workers.
    """

    def __init__(self, num_classes: int, threshold: Optional[float] = 0.95, decay: float = 0.999,
                 group: Optional[object] = None):
        super().__init__()
        if threshold is None:
            raise ValueError("flexmatch needs selflabel.threshold (its τ)")
        self.tau, self.decay, self.group = threshold, decay, group
        self.register_buffer("sigma", torch.zeros(num_classes, dtype=torch.float64))
        self.register_buffer("unused", torch.zeros((), dtype=torch.float64))

    def thresholds(self, device=None) -> torch.Tensor:
        denom = torch.maximum(self.sigma.max(), self.unused).clamp(min=1.0)
        beta = self.sigma / denom
        return (self.tau * beta / (2.0 - beta)).float().to(device)

    @torch.no_grad()
    def forward(self, conf: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        mask = conf >= self.thresholds(conf.device)[labels]
        sure = conf >= self.tau
        counts = torch.bincount(labels[sure], minlength=self.sigma.numel()).double()
        unsure = (~sure).sum().double().reshape(1)
        counts, unsure = all_reduce_sum((counts.cpu(), unsure.cpu()), self.group)
        self.sigma.mul_(self.decay).add_(counts.to(self.sigma))
        self.unused.mul_(self.decay).add_(unsure.to(self.unused)[0])
        return mask


@ALIGNMENTS.register("none")
class NoAlignment(nn.Module):
    def __init__(self, num_classes: int, **_):
        super().__init__()

    def forward(self, probs: torch.Tensor, labels_l: Optional[torch.Tensor] = None) -> torch.Tensor:
        return probs


class _RunningAlignment(nn.Module):
    """``p̃ ∝ p · target / mean_pred`` with EMA ``mean_pred`` synced across workers."""

    def __init__(self, num_classes: int, momentum: float = 0.999, group: Optional[object] = None):
        super().__init__()
        self.momentum, self.group = momentum, group
        self.register_buffer("mean_pred", torch.full((num_classes,), 1.0 / num_classes))

    def target(self, labels_l: Optional[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def forward(self, probs: torch.Tensor, labels_l: Optional[torch.Tensor] = None) -> torch.Tensor:
        if probs.shape[0]:
            stats = torch.cat([probs.float().sum(0).cpu(), torch.tensor([float(probs.shape[0])])])
            (stats,) = all_reduce_sum((stats,), self.group)
            batch_mean = (stats[:-1] / stats[-1].clamp(min=1.0)).to(self.mean_pred)
            self.mean_pred.mul_(self.momentum).add_((1 - self.momentum) * batch_mean)
        scaled = probs * (self.target(labels_l).to(probs) / self.mean_pred.to(probs).clamp(min=1e-6))
        return scaled / scaled.sum(1, keepdim=True).clamp(min=1e-12)


@ALIGNMENTS.register("uniform")
class UniformAlignment(_RunningAlignment):
    """Align the unlabelled predictions to a uniform class distribution."""

    def target(self, labels_l):
        return torch.full_like(self.mean_pred, 1.0 / self.mean_pred.numel())


@ALIGNMENTS.register("labelled")
class LabelledAlignment(_RunningAlignment):
    """Align to the class frequencies of the labelled samples seen so far."""

    def __init__(self, num_classes: int, momentum: float = 0.999, group: Optional[object] = None):
        super().__init__(num_classes, momentum, group)
        self.register_buffer("label_counts", torch.ones(num_classes, dtype=torch.float64))

    def target(self, labels_l):
        if labels_l is not None and labels_l.numel():
            valid = labels_l[labels_l >= 0]
            counts = torch.bincount(valid, minlength=self.label_counts.numel()).double().cpu()
            (counts,) = all_reduce_sum((counts,), self.group)
            self.label_counts += counts.to(self.label_counts)
        return (self.label_counts / self.label_counts.sum()).float()
