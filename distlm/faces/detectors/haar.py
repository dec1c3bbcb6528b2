"""``haar``: OpenCV's frontal-face Haar cascade, a light fallback (misses turned heads)."""
from __future__ import annotations

import os
from typing import List, Optional, Sequence

import cv2
import numpy as np

from distlm.faces.detection import Detection
from distlm.faces.detectors.base import FaceDetector
from distlm.faces.registry import DETECTORS
from distlm.faces.threads import pin_opencv_threads


@DETECTORS.register("haar")
class HaarDetector(FaceDetector):
    """``cv2.CascadeClassifier`` on the grayscale image; no landmarks.

    ``score`` is the cascade's final-stage level weight (unbounded, larger = surer).
    """

    def __init__(
        self,
        num_threads: Optional[int] = None,
        cascade: str = "haarcascade_frontalface_default.xml",
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: int = 20,
    ) -> None:
        if num_threads:
            pin_opencv_threads(num_threads)
        path = cascade if os.path.isabs(cascade) else os.path.join(cv2.data.haarcascades, cascade)
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise FileNotFoundError(f"{path}: Haar cascade missing or unreadable (opencv 5.x ships none)")
        self._kw = dict(scaleFactor=scale_factor, minNeighbors=min_neighbors, minSize=(min_size, min_size))

    def _one(self, rgb: np.ndarray) -> List[Detection]:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        boxes, _, weights = self._cascade.detectMultiScale3(gray, outputRejectLevels=True, **self._kw)
        return [
            Detection(np.asarray(b, np.float32), float(np.ravel(w)[0]) if np.size(w) else 0.0)
            for b, w in zip(boxes, weights)
        ]

    def detect(self, images: Sequence[np.ndarray]) -> List[List[Detection]]:
        return [self._one(im) for im in images]
