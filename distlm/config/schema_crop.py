"""The ``data.crop`` section of a job spec: how the trainer's crop stage turns raw-image
sources into face crops (typed, pure data; every field in docs/jobs.md).

Used when a source indexes image files (``rafdb``, ``emotionet``, ``images``...):
``python -m distlm.train`` crops them into ``data.cache`` first (``distlm.prepare``'s
stage), then trains on the crops. The crop side is ``data.image_size``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from distlm.config.choices import registered

Detector = registered("distlm.faces.registry", "DETECTORS", what="face detector")
Chooser = registered("distlm.faces.registry", "CHOOSERS", what="face chooser")
Order = registered("distlm.prepare.order", "ORDERS", what="prepare order")


@dataclass
class CropSpec:
    """Face detection, crop geometry and the crop actors' resources."""

    detector: Detector = "mtcnn"        # mtcnn, haar, none (whole image)
    margin: float = 0.1                 # crop side = max(w, h) * (1 + 2 * margin)
    choose: Chooser = "largest"         # the face kept when there are several
    align: bool = False                 # level the eyes (MTCNN landmarks)
    max_side: int = 640                 # detect on a copy downscaled to this longest side
    detect_batch: int = 8               # images per detector call
    min_actors: int = 1                 # crop actors (one detector each): autoscaling pool
    max_actors: Optional[int] = None    # None: the cluster's CPUs / cpus_per_actor
    cpus_per_actor: float = 1.0
    gpus_per_actor: float = 0.0         # > 0: crop actors run on GPU nodes
    shard_size: int = 256               # inputs per crop shard
    order: Order = "mixed"              # spread of the inputs over the shards
    alpha: Literal["black", "white", "drop"] = "black"   # transparent images
    draft: bool = False                 # decode large JPEGs reduced for detection
