"""Named augmentations of the job spec: each preset is one `AugmentSpec`, nothing more.

``train.augment: crop_flip`` reads exactly as ``train.augment: {crop: {padding: 4},
flip: {p: 0.5}}`` and gives the same pixels for the same generator; docs/jobs.md
carries the table (a test checks it against this registry).

Example::

    spec = AUGMENTATIONS.create("strong")      # AugmentSpec(crop=..., flip=..., ...)
"""
from __future__ import annotations

from distlm.config.schema_augment import (AugmentSpec, CropSpec, CutoutSpec, FlipSpec, JitterSpec,
                                          RandAugmentSpec)
from distlm.registry import Registry

AUGMENTATIONS: Registry[AugmentSpec] = Registry("augmentation preset")


@AUGMENTATIONS.register("none")
def none() -> AugmentSpec:
    """Identity."""
    return AugmentSpec()


@AUGMENTATIONS.register("flip")
def flip() -> AugmentSpec:
    """Horizontal flip with probability 0.5 per sample."""
    return AugmentSpec(flip=FlipSpec(p=0.5))


@AUGMENTATIONS.register("crop_flip")
def crop_flip() -> AugmentSpec:
    """Random crop of the 4-pixel reflect-padded image, then the flip."""
    return AugmentSpec(crop=CropSpec(padding=4), flip=FlipSpec(p=0.5))


@AUGMENTATIONS.register("crop_flip_jitter")
def crop_flip_jitter() -> AugmentSpec:
    """``crop_flip`` followed by a small colour jitter."""
    return AugmentSpec(crop=CropSpec(padding=4), flip=FlipSpec(p=0.5),
                       jitter=JitterSpec(brightness=0.1, contrast=0.1, saturation=0.1))


@AUGMENTATIONS.register("strong")
def strong() -> AugmentSpec:
    """``crop_flip``, RandAugment (2 of affine/colour ops at magnitude 0.5), cutout: for SSL consistency."""
    return AugmentSpec(crop=CropSpec(padding=4), flip=FlipSpec(p=0.5),
                       randaugment=RandAugmentSpec(ops=["affine", "brightness", "contrast", "saturation"],
                                                   num_ops=2, magnitude=0.5),
                       cutout=CutoutSpec(size=0.5))
