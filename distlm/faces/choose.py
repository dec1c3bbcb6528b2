"""Which face to keep when a detector finds several."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from distlm.faces.detection import Detection
from distlm.faces.registry import CHOOSERS


@CHOOSERS.register("largest")
def largest(detections: Sequence[Detection]) -> int:
    """Index of the face with the largest box area (ties: the first)."""
    return int(np.argmax([d.area for d in detections]))


@CHOOSERS.register("most_confident")
def most_confident(detections: Sequence[Detection]) -> int:
    """Index of the face with the highest score (ties: the first)."""
    return int(np.argmax([d.score for d in detections]))
