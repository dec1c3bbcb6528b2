"""Centroid strategies: where the class centres the losses compare against come from.

A strategy owns its state in buffers (so ``state_dict`` saves it and a resumed run
continues exactly) and is called once per step with the detached embeddings and
class assignments of the *local* batch. It computes per-class sums and counts,
sums them over the process group in one all-reduce, and only then divides, so
every rank sees the centroids one process would compute on the global batch.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import nn

from distlm.centroids.stats import class_sums
from distlm.distributed import all_reduce_sum
from distlm.precision import full_dtype


class CentroidStrategy(nn.Module):
    """Base class. Subclasses implement :meth:`_step` on global sums and counts.

    Buffers:
        centroids: ``(C, D)`` raw (unnormalised) centroids in use after the last step.
        present: ``(C,)`` bool, which classes currently have a centroid.
    """

    def __init__(self, num_classes: int, dim: Optional[int] = None, group: Optional[object] = None):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.num_classes = num_classes
        self.group = group
        self.register_buffer("centroids", torch.zeros(num_classes, dim or 0))
        self.register_buffer("present", torch.zeros(num_classes, dtype=torch.bool))
        self.register_buffer("last_counts", torch.zeros(num_classes))

    def _ensure_dim(self, x: torch.Tensor) -> None:
        """Size the buffers lazily at the first batch (dim may be unknown at build time)."""
        if self.centroids.shape[1] != x.shape[1]:
            if self.centroids.shape[1] != 0:
                raise ValueError(
                    f"embedding dim changed from {self.centroids.shape[1]} to {x.shape[1]}"
                )
            # float32 state even under AMP; float64 when the caller asks for it
            self._resize(x.shape[1], x.new_zeros((), dtype=full_dtype(x.dtype)))

    def _resize(self, dim: int, like: torch.Tensor) -> None:
        for name, buf in list(self.named_buffers(recurse=False)):
            if buf.dim() == 2 and buf.shape[1] == 0:
                setattr(self, name, like.new_zeros(buf.shape[0], dim))
        self.last_counts = self.last_counts.to(like)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Buffers are sized lazily: adopt the saved shape (and dtype) before loading,
        # on this module's device, wherever the saved tensors were mapped
        for name, buf in list(self.named_buffers(recurse=False)):
            saved = state_dict.get(prefix + name)
            if saved is not None and saved.shape != buf.shape:
                setattr(self, name, torch.zeros_like(saved, device=buf.device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @torch.no_grad()
    def forward(
        self, x: torch.Tensor, labels: torch.Tensor, weights: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Update from a local batch and return the centroids in use.

        Args:
            x: ``(B, D)`` raw embeddings (detached here).
            labels: ``(B,)`` class assignments, ``-1`` for none.
            weights: optional ``(B,)`` membership weights.
        Returns:
            ``centroids (C, D)`` (raw, detached) and ``present (C,)`` bool.
        """
        x = x.detach()
        self._ensure_dim(x)
        sums, counts = class_sums(x.to(self.centroids.dtype), labels, self.num_classes, weights)
        sums, counts = all_reduce_sum((sums, counts), self.group)
        self.last_counts.copy_(counts)
        self._step(sums, counts)
        return self.centroids, self.present

    def _step(self, sums: torch.Tensor, counts: torch.Tensor) -> None:
        raise NotImplementedError

    def end_epoch(self) -> None:
        """Hook called by the trainer at the end of each pass over the data."""

    @staticmethod
    def batch_means(sums: torch.Tensor, counts: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``sums / counts`` where ``counts > 0``; returns ``(means (C, D), has (C,))``."""
        has = counts > 0
        return sums / counts.clamp(min=torch.finfo(sums.dtype).tiny)[:, None], has
