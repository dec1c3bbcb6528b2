"""Named batch augmentations: ``AUGMENTATIONS.create(name, **kw)`` → ``augment(x, gen)``.

Every augmentation maps ``x (B, C, H, W) float`` to the same shape on ``x.device``,
drawing its randomness only from the ``torch.Generator`` it is given.

Example::

    aug = AUGMENTATIONS.create("crop_flip", padding=4)
    x = aug(x, torch.Generator().manual_seed(0))
"""
from __future__ import annotations

from typing import Callable

import torch

from distlm.data.loading.augment_ops import color_jitter, hflip, random_crop
from distlm.data.loading.strong_ops import rand_augment
from distlm.registry import Registry

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
AUGMENTATIONS: Registry[Augment] = Registry("augmentation")


@AUGMENTATIONS.register("none")
def make_none() -> Augment:
    """Identity."""
    return lambda x, gen: x


@AUGMENTATIONS.register("flip")
def make_flip(p: float = 0.5) -> Augment:
    """Horizontal flip with probability ``p`` per sample."""
    return lambda x, gen: hflip(x, gen, p)


@AUGMENTATIONS.register("crop_flip")
def make_crop_flip(padding: int = 4, p_flip: float = 0.5) -> Augment:
    """Random crop with reflect padding, then horizontal flip."""
    return lambda x, gen: hflip(random_crop(x, gen, padding), gen, p_flip)


@AUGMENTATIONS.register("crop_flip_jitter")
def make_crop_flip_jitter(padding: int = 4, p_flip: float = 0.5, brightness: float = 0.1,
                          contrast: float = 0.1, saturation: float = 0.1) -> Augment:
    """``crop_flip`` followed by a small colour jitter."""
    def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        x = hflip(random_crop(x, gen, padding), gen, p_flip)
        return color_jitter(x, gen, brightness, contrast, saturation)
    return augment


@AUGMENTATIONS.register("strong")
def make_strong(padding: int = 4, num_ops: int = 2, magnitude: float = 0.5, cutout_size: float = 0.5) -> Augment:
    """``crop_flip`` then RandAugment-like ops (affine, colour) and cutout: for SSL consistency."""
    def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        x = hflip(random_crop(x, gen, padding), gen)
        return rand_augment(x, gen, num_ops, magnitude, cutout_size)
    return augment


def resolve_augment(aug: "str | Augment") -> Augment:
    """A registered name or an already-built callable → callable."""
    return AUGMENTATIONS.create(aug) if isinstance(aug, str) else aug
