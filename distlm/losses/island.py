"""Island loss (Cai et al., FG 2018): center loss plus a push between centres.

Loss: ``L = L_C + λ_I · Σ_j Σ_{k≠j} (cos(c_k, c_j) + 1)`` over ordered pairs of
centres that have been seen. The centres are not network parameters: they move by
the paper's update (its eq. 5), ``c_j ← c_j − α·Δc_j`` with

    Δc_j = Σ_{y_i=j}(c_j − x_i) / (1 + n_j)
           + λ_I/(N − 1) · Σ_{k≠j} [ c_k/(‖c_k‖‖c_j‖) − (c_k·c_j)·c_j/(‖c_k‖‖c_j‖³) ]

``N`` the number of classes. The bracket is ``∂cos(c_k, c_j)/∂c_j``; the paper
scales the sum by ``λ_I/(N − 1)``, not by the ``2·λ_I`` the derivative of the pair
sum would give. The island term's value is added to the loss so it shows in logs; it
carries no gradient to the embeddings.

A centre still at its zero initialisation has no direction: it neither pushes nor is
pushed (it takes no part in the penalty or the sum over ``k``) until a sample of its
class has moved it. A seen centre whose class is absent from the batch is pushed all
the same (its first term is 0).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from distlm.losses.center import CenterLoss
from distlm.losses.registry import LOSSES

_EPS = 1e-12  # as F.normalize: a norm below it is taken as _EPS


def island_penalty(centers: torch.Tensor, seen: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``Σ_{j≠k} (cos(c_j, c_k) + 1)`` over ordered pairs of seen centres (scalar).

    Args:
        centers: ``(C, D)``. seen: ``(C,)`` bool, ``None`` = all.
    """
    if seen is not None:
        centers = centers[seen]
    if centers.shape[0] < 2:
        return centers.sum() * 0.0
    cn = F.normalize(centers, dim=1, eps=_EPS)
    cos = cn @ cn.t()
    off = ~torch.eye(cos.shape[0], dtype=torch.bool, device=cos.device)
    return (cos[off] + 1.0).sum()


def island_push(centers: torch.Tensor, seen: torch.Tensor) -> torch.Tensor:
    """``Σ_{k≠j, k seen} ∂cos(c_k, c_j)/∂c_j`` for every seen ``j``, ``(C, D)``.

    Written with ``u = c/‖c‖`` and ``s_j = Σ_{k≠j} u_k``: the sum is
    ``(s_j − (s_j·u_j)·u_j) / ‖c_j‖``, the part of ``s_j`` orthogonal to ``c_j``.
    Rows of unseen centres are 0, and unseen centres add nothing to ``s_j``.

    Args:
        centers: ``(C, D)``. seen: ``(C,)`` bool.
    """
    mask = seen[:, None].to(centers.dtype)
    norm = centers.norm(dim=1, keepdim=True).clamp_min(_EPS)
    u = centers / norm * mask
    s = u.sum(dim=0, keepdim=True) - u
    return (s - (s * u).sum(dim=1, keepdim=True) * u) / norm * mask


@LOSSES.register("island")
class IslandLoss(CenterLoss):
    """Center loss + island term, centres moved by Cai et al.'s eq. 5.

    Args:
        island_lambda: ``λ_I`` (Cai et al. use 10).
        alpha: centre learning rate, as in :class:`CenterLoss`.

    Example:
        >>> loss = IslandLoss(num_classes=7, alpha=0.5, island_lambda=10.0)
        >>> value = loss(torch.randn(32, 64), torch.randint(0, 7, (32,)))
    """

    def __init__(self, num_classes: int, dim: Optional[int] = None, alpha: float = 0.5,
                 island_lambda: float = 10.0, reduction: str = "mean", sync: bool = True,
                 group: Optional[object] = None):
        super().__init__(num_classes, dim, alpha, reduction, sync, group)
        self.island_lambda = island_lambda

    def forward(self, embeddings, labels, weights=None):
        # the penalty of the centres this step's loss is computed against (pre-update)
        pen = island_penalty(self.centers, self.seen).detach() if self.centers.numel() else 0.0
        base = super().forward(embeddings, labels, weights)
        return base + self.island_lambda * pen

    def center_step(self, sums, counts):
        # ``seen`` and the centres are the same on every rank (updated from all-reduced
        # sums and counts), so the push needs no communication of its own.
        step = super().center_step(sums, counts)
        if self.num_classes < 2:
            return step
        scale = self.island_lambda / (self.num_classes - 1)
        return step + scale * island_push(self.centers, self.seen)
