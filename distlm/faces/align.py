"""Eyes-level alignment: the roll angle from the two eye landmarks."""
from __future__ import annotations

import math
from typing import Optional

import cv2
import numpy as np


def eye_angle(landmarks: Optional[np.ndarray]) -> float:
    """Roll of the face in degrees (0 when eyes are level or landmarks missing).

    Args:
        landmarks: ``(5, 2)`` in ``LANDMARKS`` order (image-left eye first).

    Returns:
        The angle that :func:`cv2.getRotationMatrix2D` needs to make the eyes level:
        positive when the image-right eye is lower (y grows downward).
    """
    if landmarks is None:
        return 0.0
    (lx, ly), (rx, ry) = landmarks[0], landmarks[1]
    return math.degrees(math.atan2(float(ry - ly), float(rx - lx)))


def similarity(center: tuple, angle: float, scale: float, out_center: tuple) -> np.ndarray:
    """``(2, 3)`` affine map: rotate by ``angle`` and scale about ``center``, then move it to ``out_center``."""
    m = cv2.getRotationMatrix2D((float(center[0]), float(center[1])), angle, scale)
    m[0, 2] += out_center[0] - center[0]
    m[1, 2] += out_center[1] - center[1]
    return m
