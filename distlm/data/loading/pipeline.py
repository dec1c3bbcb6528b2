"""Host batch → device :class:`Batch`: copy uint8 pixels, normalise and augment on the device."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from distlm.data.loading.augment import Augment, AugmentLike, resolve_augment
from distlm.data.loading.batch import Batch, Device, HostBatch
from distlm.data.loading.norm import NormStats, normalize


def augment_generator(seed: int, rank: int, epoch: int, device: Device = "cpu") -> torch.Generator:
    """A generator seeded from ``(seed, rank, epoch)``: reproducible per epoch, distinct per worker."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(rank), int(epoch), 0xA06]).generate_state(2)
    gen = torch.Generator(device=torch.device(device))
    gen.manual_seed(int(state[0]) << 32 | int(state[1]))
    return gen


@dataclass
class DevicePipeline:
    """Turns each :class:`HostBatch` into a normalised, augmented :class:`Batch` on ``device``.

    ``norm=None`` only rescales to [0, 1]. ``augment_unlabelled=None`` reuses the
    labelled augmentation. Each augmentation is a preset name (``AUGMENTATIONS``), an
    ``AugmentSpec`` (or its mapping) or a callable (``distlm.data.loading.augment``).
    """

    device: Device = "cpu"
    norm: Optional[NormStats] = None
    augment_labelled: AugmentLike = "none"
    augment_unlabelled: Optional[AugmentLike] = None
    augment_strong: Optional[AugmentLike] = None  # set: also a strong view x_u_s of the unlabelled rows

    def __post_init__(self) -> None:
        self.device = torch.device(self.device)
        self._aug_l = resolve_augment(self.augment_labelled)
        self._aug_u = self._aug_l if self.augment_unlabelled is None else resolve_augment(self.augment_unlabelled)
        self._aug_s = None if self.augment_strong is None else resolve_augment(self.augment_strong)

    def generator(self, seed: int, rank: int, epoch: int) -> torch.Generator:
        return augment_generator(seed, rank, epoch, self.device)

    def _pixels(self, images: torch.Tensor, aug: Augment, gen: torch.Generator) -> torch.Tensor:
        if self.device.type == "cuda" and images.device.type == "cpu" and not images.is_pinned():
            images = images.pin_memory()  # so that the copy below overlaps with compute
        images = images.to(self.device, non_blocking=True)
        stats = self.norm or NormStats.unit(images.shape[-1])
        x = normalize(images, stats.mean, stats.std)
        return aug(x, gen) if x.shape[0] else x

    def __call__(self, host: HostBatch, gen: torch.Generator) -> Batch:
        """``host`` (uint8 ``(b, H, W, C)`` per side) → :class:`Batch` on ``self.device``."""
        lab, unl = host.labelled, host.unlabelled
        return Batch(
            x_l=self._pixels(lab.images, self._aug_l, gen),
            y_l=lab.labels.to(self.device, torch.long, non_blocking=True),
            au_l=lab.au.to(self.device, torch.float32, non_blocking=True),
            au_mask_l=lab.au_mask.to(self.device, torch.bool, non_blocking=True),
            x_u=self._pixels(unl.images, self._aug_u, gen),
            x_u_s=None if self._aug_s is None else self._pixels(unl.images, self._aug_s, gen),
        )
