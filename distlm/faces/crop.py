"""Cut a square around a face box (with margin), optionally level the eyes, resize."""
from __future__ import annotations

import math

import cv2
import numpy as np

from distlm.faces.align import similarity


def square_around(box: np.ndarray, margin: float) -> tuple:
    """``(cx, cy, side)``: the box's centre and ``max(w, h) * (1 + 2 * margin)``."""
    x, y, w, h = (float(v) for v in box)
    return x + w / 2, y + h / 2, max(w, h) * (1 + 2 * margin)


def crop_padded(rgb: np.ndarray, cx: float, cy: float, side: int) -> np.ndarray:
    """The ``(side, side, 3)`` square centred at ``(cx, cy)``; outside the image is black."""
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    out = np.zeros((side, side, rgb.shape[2]), rgb.dtype)
    h, w = rgb.shape[:2]
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    return out


def _resize(img: np.ndarray, size: int) -> np.ndarray:
    interp = cv2.INTER_AREA if img.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(img, (size, size), interpolation=interp)


def crop_face(
    rgb: np.ndarray, box: np.ndarray, size: int = 227, margin: float = 0.1, angle: float = 0.0
) -> np.ndarray:
    """Face crop.

    Args:
        rgb: ``(H, W, 3)`` uint8 source image.
        box: ``(4,)`` ``x, y, w, h`` in ``rgb`` pixels.
        size: output side.
        margin: extra fraction of the longer box side added on every side.
        angle: roll to undo, degrees (:func:`distlm.faces.align.eye_angle`).

    Returns:
        ``(size, size, 3)`` uint8; parts of the square outside the image are black.
    """
    cx, cy, side = square_around(box, margin)
    side = max(1.0, side)
    if abs(angle) < 1e-6:
        return _resize(crop_padded(rgb, cx, cy, max(1, int(round(side)))), size)
    # rotated: cut the axis-aligned square holding every rotation of the face square,
    # shrink it with area averaging (no aliasing), then rotate about its centre.
    outer = int(math.ceil(side * math.sqrt(2))) + 2
    scale = size / side
    region_side = max(1, int(round(outer * scale)))
    region = crop_padded(rgb, cx, cy, outer)
    region = cv2.resize(region, (region_side, region_side),
                        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    c = region_side / 2
    m = similarity((c, c), angle, 1.0, (size / 2, size / 2))
    return cv2.warpAffine(region, m, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def resize_whole(rgb: np.ndarray, size: int) -> np.ndarray:
    """The whole image resized to ``(size, size, 3)`` (aspect not kept): for ``none``."""
    return _resize(rgb, size) if rgb.shape[:2] != (size, size) else rgb
