"""Trustworthy self-labels: confidence-threshold policies and distribution
alignment, each a small module with its state in buffers (saved, synced).

Registries:
    THRESHOLDS: ``fixed`` (one τ, or none), ``flexmatch`` (class-adaptive, Zhang et
        al. 2021: classes the model already predicts confidently get stricter
        thresholds, the others looser ones), ``freematch`` (self-adaptive, Wang et
        al. 2023: a global τ from the running mean confidence, scaled per class by
        the running mean prediction; no fixed τ to choose).
    ALIGNMENTS: ``none``, ``uniform``, ``labelled`` (ReMixMatch's distribution
        alignment: scale the scores by target / running mean prediction, so no
        class swallows the unlabelled pool).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from distlm.distributed import all_reduce_sum, world_size
from distlm.precision import full_dtype, full_precision
from distlm.registry import Registry

THRESHOLDS: Registry = Registry("self-label threshold policy")
ALIGNMENTS: Registry = Registry("distribution alignment")


def _as_scores(thresholds: torch.Tensor, like: Optional[torch.Tensor]) -> torch.Tensor:
    """Float64 running thresholds ``(C,)`` in the precision and on the device of the
    scores ``like`` they are compared with (float32 without ``like``)."""
    if like is None:
        return thresholds.float()
    return thresholds.to(device=like.device, dtype=full_dtype(like.dtype))


@THRESHOLDS.register("fixed")
class FixedThreshold(nn.Module):
    """``τ`` for every class (``None``: keep every self-label)."""

    def __init__(self, num_classes: int, threshold: Optional[float] = None, **_):
        super().__init__()
        self.tau = threshold

    def thresholds(self, like: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``(1,)``: ``τ`` (0 without one), float32 (or ``like``'s device and precision)."""
        return _as_scores(torch.full((1,), 0.0 if self.tau is None else self.tau, dtype=torch.float64), like)

    def forward(self, conf: torch.Tensor, labels: torch.Tensor,
                scores: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``(B,)`` bool mask of kept self-labels (``conf``/``labels`` the top score and
        class of each row of ``scores (B, C)``, which only stateful policies read)."""
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

    def thresholds(self, like: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``(C,)`` per-class thresholds, float32 (or ``like``'s device and precision)."""
        denom = torch.maximum(self.sigma.max(), self.unused).clamp(min=1.0)
        beta = self.sigma / denom
        return _as_scores(self.tau * beta / (2.0 - beta), like)

    @torch.no_grad()
    def forward(self, conf: torch.Tensor, labels: torch.Tensor,
                scores: Optional[torch.Tensor] = None) -> torch.Tensor:
        mask = conf >= self.thresholds(conf)[labels]
        sure = conf >= self.tau
        counts = torch.bincount(labels[sure], minlength=self.sigma.numel()).double()
        unsure = (~sure).sum().double().reshape(1)
        counts, unsure = all_reduce_sum((counts, unsure), self.group)
        self.sigma.mul_(self.decay).add_(counts.to(self.sigma))
        self.unused.mul_(self.decay).add_(unsure.to(self.unused)[0])
        return mask


@THRESHOLDS.register("freematch")
class FreeMatchThreshold(nn.Module):
    """Self-adaptive thresholds ``τ_c = τ_g · p̃_c / max_k p̃_k`` (FreeMatch's SAT).

    ``τ_g`` is the running mean (momentum ``momentum`` per step) of the unlabelled
    samples' top score, ``p̃ (C,)`` the running mean of their score vectors, both
    starting at ``1/C`` and updated with the batch before it is masked (as in
    FreeMatch). Early on the model is unsure and ``τ_g`` low, so many self-labels
    pass; as it grows confident ``τ_g`` rises, and classes it predicts rarely keep a
    lower bar. Batch statistics are summed over workers. ``threshold`` must be unset:
    this policy chooses its own.
    """

    def __init__(self, num_classes: int, threshold: Optional[float] = None, momentum: float = 0.999,
                 group: Optional[object] = None):
        super().__init__()
        if threshold is not None:
            raise ValueError("freematch sets its own thresholds: leave selflabel.threshold unset")
        self.momentum, self.group = momentum, group
        self.register_buffer("tau_global", torch.full((), 1.0 / num_classes, dtype=torch.float64))
        self.register_buffer("mean_scores", torch.full((num_classes,), 1.0 / num_classes, dtype=torch.float64))

    def thresholds(self, like: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``(C,)`` per-class thresholds, float32 (or ``like``'s device and precision)."""
        local = self.mean_scores / self.mean_scores.max().clamp(min=1e-12)
        return _as_scores(self.tau_global * local, like)

    @torch.no_grad()
    def forward(self, conf: torch.Tensor, labels: torch.Tensor,
                scores: Optional[torch.Tensor] = None) -> torch.Tensor:
        if scores is None:
            raise ValueError("freematch needs the score vectors (B, C) of the unlabelled samples")
        stats = torch.cat([scores.double().sum(0), conf.double().sum().reshape(1),
                           conf.new_full((1,), float(conf.shape[0]), dtype=torch.float64)])
        (stats,) = all_reduce_sum((stats,), self.group)
        n = stats[-1]
        if n > 0:
            m = self.momentum
            self.mean_scores.mul_(m).add_((1 - m) * (stats[:-2] / n).to(self.mean_scores))
            self.tau_global.mul_(m).add_((1 - m) * (stats[-2] / n).to(self.tau_global))
        return conf >= self.thresholds(conf)[labels]


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
            p = full_precision(probs)
            stats = torch.cat([p.sum(0), p.new_full((1,), float(probs.shape[0]))])
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
            counts = torch.bincount(valid, minlength=self.label_counts.numel()).double()
            (counts,) = all_reduce_sum((counts,), self.group)
            self.label_counts += counts.to(self.label_counts)
        return self.label_counts / self.label_counts.sum()  # cast to the scores' dtype by the caller
