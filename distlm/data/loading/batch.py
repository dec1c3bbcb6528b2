"""Batch containers: what a source yields on the host and what the trainer receives.

A *source* yields :class:`HostBatch` es (raw ``uint8`` pixels, channels last, still on
the host or already copied to the device by Ray). The device pipeline
(:mod:`distlm.data.loading.pipeline`) turns each into a :class:`Batch` (normalised,
augmented ``float32``, channels first) on the worker's device.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Optional, Union

import torch

Device = Union[str, torch.device]


@dataclass
class DomainBatch:
    """Raw rows of one domain for this worker.

    Shapes: ``images (b, H, W, C) uint8``, ``labels (b,) long`` (-1 = none),
    ``au (b, M) float32``, ``au_mask (b, M) bool`` (``M = 0`` without AUs).
    """

    images: torch.Tensor
    labels: torch.Tensor
    au: torch.Tensor
    au_mask: torch.Tensor

    def __post_init__(self) -> None:
        b = self.images.shape[0]
        if self.images.dim() != 4:
            raise ValueError(f"images must be (b, H, W, C), got shape {tuple(self.images.shape)}")
        for name in ("labels", "au", "au_mask"):
            t = getattr(self, name)
            if t.shape[0] != b:
                raise ValueError(f"{name} has {t.shape[0]} rows but images has {b}")

    @property
    def size(self) -> int:
        return int(self.images.shape[0])

    def to(self, device: Device, non_blocking: bool = False) -> "DomainBatch":
        return DomainBatch(*(getattr(self, f.name).to(device, non_blocking=non_blocking) for f in fields(self)))

    @staticmethod
    def empty(height: int, width: int, channels: int, num_au: int = 0, device: Device = "cpu") -> "DomainBatch":
        """A zero-row batch (the unlabelled side when ``unlabelled_ratio == 0``)."""
        return DomainBatch(
            images=torch.empty(0, height, width, channels, dtype=torch.uint8, device=device),
            labels=torch.empty(0, dtype=torch.long, device=device),
            au=torch.empty(0, num_au, dtype=torch.float32, device=device),
            au_mask=torch.empty(0, num_au, dtype=torch.bool, device=device),
        )


@dataclass
class HostBatch:
    """One step's raw rows for this worker: a labelled and an unlabelled part."""

    labelled: DomainBatch
    unlabelled: DomainBatch


@dataclass
class Batch:
    """One training step's tensors for this worker.

    Shapes: ``x_l (B_l, C, H, W) float32``, ``y_l (B_l,) long`` (-1 = no class label),
    ``au_l (B_l, M) float32``, ``au_mask_l (B_l, M) bool`` (``(B_l, 0)`` outside the AU
    scenario), ``x_u (B_u, C, H, W) float32``.
    """

    x_l: torch.Tensor
    y_l: torch.Tensor
    au_l: torch.Tensor
    au_mask_l: torch.Tensor
    x_u: torch.Tensor
    x_u_s: Optional[torch.Tensor] = None  # strong view of the unlabelled rows (weak/strong SSL)

    def to(self, device: Device, non_blocking: bool = False) -> "Batch":
        """Copy every tensor to ``device`` (a no-op for tensors already there)."""
        return Batch(*(None if getattr(self, f.name) is None else
                       getattr(self, f.name).to(device, non_blocking=non_blocking) for f in fields(self)))

    @property
    def num_labelled(self) -> int:
        return int(self.x_l.shape[0])

    @property
    def num_unlabelled(self) -> int:
        return int(self.x_u.shape[0])
