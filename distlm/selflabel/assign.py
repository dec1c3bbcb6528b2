"""Self-labelling: network outputs → class assignments for centroids and ``L_M``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from distlm.precision import full_precision


@dataclass
class Assignment:
    """Class assignments for a batch.

    Attributes:
        labels: ``(B,)`` long, ``-1`` where the sample is not assigned.
        confidence: ``(B,)`` float, the score of the chosen class.
        mask: ``(B,)`` bool, True where assigned.
    """

    labels: torch.Tensor
    confidence: torch.Tensor
    mask: torch.Tensor


@torch.no_grad()
def assign_from_probs(probs: torch.Tensor, threshold: Optional[float] = None) -> Assignment:
    """Argmax assignments from ``(B, C)`` class scores, optionally thresholded.

    A sample whose top score is below ``threshold`` gets label ``-1``.

    Example:
        >>> a = assign_from_probs(torch.tensor([[0.9, 0.1], [0.55, 0.45]]), threshold=0.6)
        >>> a.labels.tolist()
        [0, -1]
    """
    if probs.dim() != 2:
        raise ValueError(f"scores must be (B, C), got shape {tuple(probs.shape)}")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    conf, labels = probs.max(dim=1)
    mask = torch.ones_like(labels, dtype=torch.bool) if threshold is None else conf >= threshold
    return Assignment(torch.where(mask, labels, torch.full_like(labels, -1)), conf, mask)


def assign_from_logits(logits: torch.Tensor, threshold: Optional[float] = None) -> Assignment:
    """Self-labels from ``(B, C)`` logits of a softmax head (expressions)."""
    return assign_from_probs(torch.softmax(full_precision(logits.detach()), dim=1), threshold)


def assign_from_formulas(au_scores: torch.Tensor, formulas, threshold: Optional[float] = None) -> Assignment:
    """Pseudo-emotions from ``(B, M)`` AU scores (in [0, 1]) through a formula set.

    ``formulas`` maps ``(B, M) → (B, K)`` pseudo-emotion scores (the mean of each
    emotion's AUs); the pseudo-class is their argmax (eq. 6-7), optionally only
    when the winning score reaches ``threshold``.
    """
    return assign_from_probs(formulas(full_precision(au_scores.detach())), threshold)
