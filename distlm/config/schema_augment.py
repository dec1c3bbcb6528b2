"""Augmentation in the job spec: a preset name, or every step and option spelled out.

``train.augment``, ``train.augment_unlabelled`` and ``selflabel.strong_augment`` take
either a preset name (``none``, ``flip``, ``crop_flip``, ``crop_flip_jitter``,
``strong``: the names of ``distlm.data.loading.augment_presets.AUGMENTATIONS``) or a
mapping of steps::

    train:
      augment: {crop: {padding: 4}, flip: {p: 0}, jitter: {brightness: 0.1}}

The steps run in the order of the fields of `AugmentSpec` (crop, flip, jitter,
randaugment, cutout) whatever order the mapping is written in; a step left out (or
null) is skipped. ``{}`` is an empty mapping: no augmentation. Each preset is exactly
one such mapping (docs/jobs.md has the table), and gives the same pixels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Union

from distlm.config.choices import registered

#: a preset name, checked against the registry when the spec is read
Preset = registered("distlm.data.loading.augment_presets", "AUGMENTATIONS", what="augmentation preset")
#: an op of RandAugment (distlm.data.loading.strong_ops RAND_OPS)
RandOp = registered("distlm.data.loading.strong_ops", "RAND_OPS", what="RandAugment op")


@dataclass
class CropSpec:
    """Reflect-pad by ``padding`` pixels, crop back to the image size at a random offset."""

    padding: int = 4


@dataclass
class FlipSpec:
    """Flip left-right with probability ``p`` per sample (``p: 0`` where a flip changes the class)."""

    p: float = 0.5


@dataclass
class JitterSpec:
    """Per-sample colour changes in the normalised space; 0 turns one off."""

    brightness: float = 0.1   # shift U(-b, b), in std units
    contrast: float = 0.1     # scale around the image mean by U(1 - c, 1 + c)
    saturation: float = 0.1   # scale around the channel mean by U(1 - s, 1 + s); 3 channels only


@dataclass
class RandAugmentSpec:
    """Each op of ``ops`` kept per sample with probability ``min(1, num_ops / len(ops))``.

    ``magnitude`` in [0, 1] scales every op (1: ±30° rotation, ±0.5 std brightness, …).
    The ops run in the order listed.
    """

    ops: List[RandOp] = field(default_factory=lambda: ["affine", "brightness", "contrast", "saturation"])
    num_ops: int = 2
    magnitude: float = 0.5


@dataclass
class CutoutSpec:
    """Set a square of side ``size · min(H, W)`` at a random centre to 0 (the mean once normalised)."""

    size: float = 0.5


@dataclass
class AugmentSpec:
    """The steps of one augmentation, applied in this field order; None skips a step."""

    crop: Optional[CropSpec] = None
    flip: Optional[FlipSpec] = None
    jitter: Optional[JitterSpec] = None
    randaugment: Optional[RandAugmentSpec] = None
    cutout: Optional[CutoutSpec] = None


#: the type of an augmentation field: a preset name or the steps spelled out
Augmentation = Union[Preset, AugmentSpec]
