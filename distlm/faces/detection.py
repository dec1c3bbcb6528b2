"""What a face detector returns for one face."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

#: Order of the 5 landmarks: image-left eye, image-right eye, nose, mouth left, mouth right.
LANDMARKS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass(frozen=True)
class Detection:
    """One face.

    Attributes:
        box: ``(4,)`` float32 ``x, y, w, h`` in pixels of the image it was found in.
        score: detector confidence (MTCNN: probability; Haar: level weight; none: 1).
        landmarks: ``(5, 2)`` float32 ``x, y`` in :data:`LANDMARKS` order, or None.
    """

    box: np.ndarray
    score: float
    landmarks: Optional[np.ndarray] = None

    @property
    def area(self) -> float:
        return float(self.box[2] * self.box[3])

    def scaled(self, factor: float) -> "Detection":
        """The same face in an image ``factor`` times larger (``1 / scale`` maps back)."""
        marks = None if self.landmarks is None else (self.landmarks * factor).astype(np.float32)
        return Detection((self.box * factor).astype(np.float32), self.score, marks)
