"""Range rules of the augmentation fields (``train.augment``, ``train.augment_unlabelled``,
``selflabel.strong_augment``): names and types are checked when the spec is read, these
check the values of a spelled-out `AugmentSpec` (a preset is valid by construction)."""
from __future__ import annotations

from typing import Iterator, Tuple

from distlm.config.schema import AugmentSpec, JobSpec

Problem = Tuple[str, str]
FIELDS = ("train.augment", "train.augment_unlabelled", "selflabel.strong_augment")


def _value(spec: JobSpec, key: str):
    section, leaf = key.split(".")
    return getattr(getattr(spec, section), leaf)


def augment_problems(key: str, aug: AugmentSpec, image_size: int) -> Iterator[Problem]:
    """Every problem of one `AugmentSpec` at dotted ``key``."""
    if aug.crop is not None and not 0 <= aug.crop.padding < image_size:
        yield f"{key}.crop.padding", (f"must be in [0, data.image_size={image_size}) (reflect padding), "
                                      f"got {aug.crop.padding!r}")
    if aug.flip is not None and not 0.0 <= aug.flip.p <= 1.0:
        yield f"{key}.flip.p", f"must be in [0, 1], got {aug.flip.p!r}"
    if aug.jitter is not None:
        for name in ("brightness", "contrast", "saturation"):
            value = getattr(aug.jitter, name)
            if value < 0:
                yield f"{key}.jitter.{name}", f"must be >= 0, got {value!r}"
    ra = aug.randaugment
    if ra is not None:
        if not ra.ops:
            yield f"{key}.randaugment.ops", "must name at least one op"
        if len(set(ra.ops)) != len(ra.ops):
            yield f"{key}.randaugment.ops", f"has duplicates: {list(ra.ops)!r}"
        if ra.num_ops < 0:
            yield f"{key}.randaugment.num_ops", f"must be >= 0, got {ra.num_ops!r}"
        if not 0.0 <= ra.magnitude <= 1.0:
            yield f"{key}.randaugment.magnitude", f"must be in [0, 1], got {ra.magnitude!r}"
    if aug.cutout is not None and not 0.0 <= aug.cutout.size <= 1.0:
        yield f"{key}.cutout.size", f"must be in [0, 1], got {aug.cutout.size!r}"


def augment_rule(spec: JobSpec) -> Iterator[Problem]:
    """`augment_problems` of every augmentation field that is spelled out."""
    for key in FIELDS:
        aug = _value(spec, key)
        if isinstance(aug, AugmentSpec):
            yield from augment_problems(key, aug, spec.data.image_size)
