"""Rules of the ``data.crop`` section (the trainer's crop stage)."""
from __future__ import annotations

from typing import Iterator, Tuple


def crop_rule(spec) -> Iterator[Tuple[str, str]]:
    c = spec.data.crop
    for key, value in (("min_actors", c.min_actors), ("shard_size", c.shard_size), ("max_side", c.max_side),
                       ("detect_batch", c.detect_batch)):
        if value < 1:
            yield f"data.crop.{key}", f"must be >= 1, got {value!r}"
    if c.max_actors is not None and c.max_actors < c.min_actors:
        yield "data.crop.max_actors", f"must be >= data.crop.min_actors ({c.min_actors}) or null, got {c.max_actors!r}"
    if c.cpus_per_actor <= 0:
        yield "data.crop.cpus_per_actor", f"must be > 0, got {c.cpus_per_actor!r}"
    if c.gpus_per_actor < 0:
        yield "data.crop.gpus_per_actor", f"must be >= 0, got {c.gpus_per_actor!r}"
    if c.margin < 0:
        yield "data.crop.margin", f"must be >= 0, got {c.margin!r}"
