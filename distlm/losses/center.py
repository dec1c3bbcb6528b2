"""Center loss (Wen et al., ECCV 2016) with its own centre update rule.

Loss per sample: ``½‖x_i − c_{y_i}‖²`` on *raw* embeddings. Centres are buffers
(not parameters), updated after each step by ``c_j ← c_j − α·Δc_j`` with
``Δc_j = Σ_{y_i=j}(c_j − x_i) / (1 + n_j) = (n_j·c_j − s_j) / (1 + n_j)``, where
``s_j, n_j`` are the per-class sums and counts of the *global* batch (all-reduced).
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch

from distlm.centroids.stats import class_sums
from distlm.distributed import all_reduce_sum
from distlm.losses.base import EmbeddingLoss, check_inputs, reduce_loss
from distlm.losses.registry import LOSSES
from distlm.precision import full_dtype


def center_loss_per_sample(x: torch.Tensor, labels: torch.Tensor,
                           centers: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(½‖x_i − c_{y_i}‖² (B,), valid (B,))``; centres are treated as constants."""
    j = labels.clamp(min=0)
    diff = x - centers.detach().to(x.dtype)[j]
    valid = (labels >= 0).to(x.dtype)
    return 0.5 * (diff * diff).sum(1) * valid, valid


def center_loss(x: torch.Tensor, labels: torch.Tensor, centers: torch.Tensor,
                weights: Optional[torch.Tensor] = None, reduction: str = "mean") -> torch.Tensor:
    """Center loss against user-given centres ``(C, D)``; see the module docstring."""
    check_inputs(x, labels, centers.shape[0])
    loss, valid = center_loss_per_sample(x, labels.to(x.device), centers)
    w = valid if weights is None else valid * weights.to(valid)
    return reduce_loss(loss, w, reduction)


def center_delta(centers: torch.Tensor, sums: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """``Δc_j = (n_j·c_j − s_j) / (1 + n_j)``, ``(C, D)``; zero for absent classes."""
    return (counts[:, None] * centers - sums) / (1.0 + counts[:, None])


@LOSSES.register("center")
class CenterLoss(EmbeddingLoss):
    """Center loss with the α update (Wen et al. 2016).

    Args:
        num_classes: ``C``. dim: ``D`` (sized at the first batch when omitted).
        alpha: centre learning rate ``α`` (Wen et al. use 0.5).

    Example:
        >>> loss = CenterLoss(num_classes=7, alpha=0.5)
        >>> value = loss(torch.randn(32, 64), torch.randint(0, 7, (32,)))
    """

    def __init__(self, num_classes: int, dim: Optional[int] = None, alpha: float = 0.5,
                 reduction: str = "mean", sync: bool = True, group: Optional[object] = None):
        super().__init__(num_classes, reduction, sync, group)
        self.alpha = alpha
        self.register_buffer("centers", torch.zeros(num_classes, dim or 0))
        self.register_buffer("seen", torch.zeros(num_classes, dtype=torch.bool))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        saved = state_dict.get(prefix + "centers")
        if saved is not None and saved.shape != self.centers.shape:  # sized lazily: on this module's device
            self.centers = torch.zeros_like(saved, device=self.centers.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def per_sample(self, x, labels, weights):
        if self.centers.shape[1] != x.shape[1]:
            if self.centers.shape[1]:
                raise ValueError(f"embedding dim changed from {self.centers.shape[1]} to {x.shape[1]}")
            # float32 state even under AMP; float64 when the caller asks for it
            self.centers = x.new_zeros(self.num_classes, x.shape[1], dtype=full_dtype(x.dtype))
        loss, valid = center_loss_per_sample(x, labels, self.centers)
        if self.training:
            self.update(x.detach(), labels)
        return loss, valid if weights is None else valid * weights.to(valid)

    @torch.no_grad()
    def update(self, x: torch.Tensor, labels: torch.Tensor) -> None:
        """Apply the centre update from the global batch statistics."""
        sums, counts = class_sums(x.to(self.centers.dtype), labels, self.num_classes)
        sums, counts = all_reduce_sum((sums, counts), self.group)
        self.centers -= self.alpha * self.center_step(sums, counts)
        self.seen |= counts > 0

    def center_step(self, sums: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        """The update direction ``Δc`` (subclasses add terms)."""
        return center_delta(self.centers, sums, counts)
