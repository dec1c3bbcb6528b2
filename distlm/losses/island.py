"""Island loss (Cai et al., FG 2018): center loss plus a push between centres.

``L = L_C + λ_I · Σ_{j≠k} (cos(c_j, c_k) + 1)`` over ordered pairs of centres that
have been seen. The centres are not network parameters, so the island term moves
the *centres*: their update is ``c ← c − α·(Δc + λ_I·∂P/∂c)`` with ``P`` the pair
sum above (its exact gradient). The term's value is added to the loss so it shows
in logs; it carries no gradient to the embeddings.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from distlm.losses.center import CenterLoss
from distlm.losses.registry import LOSSES


def island_penalty(centers: torch.Tensor, seen: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``Σ_{j≠k} (cos(c_j, c_k) + 1)`` over ordered pairs of seen centres (scalar)."""
    if seen is not None:
        centers = centers[seen]
    if centers.shape[0] < 2:
        return centers.sum() * 0.0
    cn = F.normalize(centers, dim=1, eps=1e-12)
    cos = cn @ cn.t()
    off = ~torch.eye(cos.shape[0], dtype=torch.bool, device=cos.device)
    return (cos[off] + 1.0).sum()


def island_gradient(centers: torch.Tensor, seen: torch.Tensor) -> torch.Tensor:
    """``∂P/∂c`` for :func:`island_penalty`, ``(C, D)`` (zero rows for unseen)."""
    with torch.enable_grad():
        c = centers.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(island_penalty(c, seen), c, allow_unused=True)
    return torch.zeros_like(centers) if grad is None else grad


@LOSSES.register("island")
class IslandLoss(CenterLoss):
    """Center loss + island term (Cai et al. 2018).

    Args:
        island_lambda: ``λ_I`` (Cai et al. use 10).
        alpha: centre learning rate, as in :class:`CenterLoss`.
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
        # Only centres updated at least once take part: a centre still at its zero
        # initialisation has no direction (its cosine gradient would be 1/eps).
        return super().center_step(sums, counts) + self.island_lambda * island_gradient(self.centers, self.seen)
