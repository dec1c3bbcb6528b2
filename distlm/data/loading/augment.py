"""Batch augmentation on the device, built from a preset name or an `AugmentSpec`.

``resolve_augment(aug)`` → ``augment(x, gen)``: maps ``x (B, C, H, W) float`` to the
same shape on ``x.device``, drawing its randomness only from the ``torch.Generator``
it is given. Each field of `AugmentSpec` names a step in ``AUGMENT_STEPS``; the steps
run in field order (crop, flip, jitter, randaugment, cutout), each on the whole batch
with per-sample parameters (no Python loop over images).

Example::

    aug = resolve_augment({"crop": {"padding": 2}, "flip": {"p": 0.0}})   # or "crop_flip"
    x = aug(x, torch.Generator().manual_seed(0))

Why our own ops rather than kornia's ``augmentation`` module (also batched per
sample on the device): the trainer seeds one ``torch.Generator`` per ``(seed, rank,
epoch)`` (``pipeline.augment_generator``) so that every DDP rank draws its own
reproducible stream, independent of the model's use of the global RNG (dropout,
initialisation). kornia draws its parameters from
``torch.distributions`` samplers on the process-wide RNG, with no generator argument,
so its draws would shift with any other use of that RNG. Our ops are ~200 lines of
plain torch with no new dependency, and the stored results (docs/results*.md, the
pinned preset outputs in tests/data/fixtures) stay bit-stable as long as these lines
do, not as long as another project's sampling and resampling code does. What we give
up: kornia's wider catalogue (perspective, blur, posterize, equalize, …); an op is
added here as one function in ``augment_ops.py``/``strong_ops.py`` and one registry
entry.
"""
from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, Callable, List, Mapping, Union

import torch

from distlm.config.schema_augment import AugmentSpec
from distlm.data.loading.augment_ops import color_jitter, hflip, random_crop
from distlm.data.loading.augment_presets import AUGMENTATIONS
from distlm.data.loading.strong_ops import cutout, rand_augment
from distlm.registry import Registry

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
#: what ``resolve_augment`` takes: a preset name, an `AugmentSpec` or its mapping, a callable
AugmentLike = Union[str, AugmentSpec, Mapping[str, Any], Augment]
#: one step per field of `AugmentSpec`: ``create(name, **options)`` → ``augment(x, gen)``
AUGMENT_STEPS: Registry[Augment] = Registry("augmentation step")


@AUGMENT_STEPS.register("crop")
def make_crop(padding: int = 4) -> Augment:
    """Random crop of the reflect-padded image (``padding: 0``: no crop, no draws)."""
    return lambda x, gen: random_crop(x, gen, padding)


@AUGMENT_STEPS.register("flip")
def make_flip(p: float = 0.5) -> Augment:
    """Horizontal flip with probability ``p`` per sample."""
    return lambda x, gen: hflip(x, gen, p)


@AUGMENT_STEPS.register("jitter")
def make_jitter(brightness: float = 0.1, contrast: float = 0.1, saturation: float = 0.1) -> Augment:
    """Brightness, contrast and saturation changes, in that order."""
    return lambda x, gen: color_jitter(x, gen, brightness, contrast, saturation)


@AUGMENT_STEPS.register("randaugment")
def make_randaugment(ops: List[str], num_ops: int = 2, magnitude: float = 0.5) -> Augment:
    """~``num_ops`` of ``ops`` per sample at ``magnitude`` (``strong_ops.rand_augment``)."""
    ops = list(ops)
    return lambda x, gen: rand_augment(x, gen, num_ops, magnitude, ops)


@AUGMENT_STEPS.register("cutout")
def make_cutout(size: float = 0.5) -> Augment:
    """A zeroed square of side ``size · min(H, W)`` per sample (``size: 0``: none)."""
    return lambda x, gen: cutout(x, gen, size) if size > 0 else x


def build_augment(spec: AugmentSpec) -> Augment:
    """The steps of ``spec`` chained in field order into one ``augment(x, gen)``."""
    steps = [AUGMENT_STEPS.create(f.name, **asdict(getattr(spec, f.name)))
             for f in fields(spec) if getattr(spec, f.name) is not None]

    def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        for step in steps:
            x = step(x, gen)
        return x
    return augment


def as_augment_spec(aug: Union[str, AugmentSpec, Mapping[str, Any]]) -> AugmentSpec:
    """A preset name, an `AugmentSpec` or its plain mapping → `AugmentSpec` (checked
    like a job spec field: an unknown step or option raises `SpecError` naming it)."""
    if isinstance(aug, str):
        return AUGMENTATIONS.create(aug)
    if isinstance(aug, AugmentSpec):
        return aug
    from distlm.config.typecheck import build_dataclass

    return build_dataclass(AugmentSpec, aug, "augment", lambda key: "<augment>")


def resolve_augment(aug: AugmentLike) -> Augment:
    """A preset name, an `AugmentSpec` (or mapping) or an already-built callable → callable."""
    if callable(aug) and not isinstance(aug, (str, AugmentSpec)):
        return aug
    return build_augment(as_augment_spec(aug))
