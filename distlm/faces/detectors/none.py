"""``none``: images are already face crops (e.g. RAF-DB ``aligned``, Fashion-MNIST)."""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

from distlm.faces.detection import Detection
from distlm.faces.detectors.base import FaceDetector
from distlm.faces.registry import DETECTORS


@DETECTORS.register("none")
class WholeImage(FaceDetector):
    """Reports the whole frame as the one face, score 1."""

    whole_image = True

    def __init__(self, num_threads: Optional[int] = None) -> None:
        del num_threads  # nothing to pin

    def detect(self, images: Sequence[np.ndarray]) -> List[List[Detection]]:
        return [
            [Detection(np.array([0, 0, im.shape[1], im.shape[0]], np.float32), 1.0)]
            for im in images
        ]
