"""Downscaling for detection: detect on a small copy, crop from the original."""
from __future__ import annotations

from typing import Tuple

import cv2
import numpy as np


def downscale(rgb: np.ndarray, max_side: int) -> Tuple[np.ndarray, float]:
    """Shrink so that ``max(H, W) <= max_side``; never enlarge.

    Args:
        rgb: ``(H, W, 3)`` uint8.
        max_side: longest side allowed; ``<= 0`` disables downscaling.

    Returns:
        ``(small, scale)`` with ``small`` of shape ``(round(H*scale), round(W*scale), 3)``
        and ``scale <= 1``; a box found on ``small`` maps back with ``box / scale``.
    """
    h, w = rgb.shape[:2]
    longest = max(h, w)
    if max_side <= 0 or longest <= max_side:
        return rgb, 1.0
    scale = max_side / longest
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), scale
