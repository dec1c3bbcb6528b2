"""The rule that mixes labelled and self-labelled samples for centroids and ``L_M``."""
from __future__ import annotations

import torch

from distlm.selflabel.assign import Assignment


def mix_labels(labels_l: torch.Tensor, self_u: Assignment) -> torch.Tensor:
    """Class assignments of a two-domain batch, labelled part first.

    Labelled samples keep their annotation; unlabelled samples take their
    self-predicted label (``-1`` where below the threshold).

    Args:
        labels_l: ``(B_l,)`` annotated classes (``-1`` allowed: unknown).
        self_u: assignment of the ``B_u`` unlabelled samples.
    Returns:
        ``(B_l + B_u,)`` long, aligned with ``torch.cat([emb_l, emb_u])``.
    """
    return torch.cat([labels_l.to(self_u.labels), self_u.labels])
