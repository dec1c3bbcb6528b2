"""An image decoded reduced for detection, and where each face's crop is cut from.

A large JPEG is decoded at 1/2, 1/4 or 1/8 scale (:func:`distlm.images.decode_reduced`);
faces are found on that. A face's crop is cut from the reduced pixels when its square
there is at least the output ``size`` (the crop is a downscale either way), otherwise
the full-size image is decoded and the crop cut from it. Boxes are reported in source
(full-size) pixels.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import numpy as np

from distlm.faces.crop import square_around
from distlm.faces.detection import Detection


@dataclass(frozen=True)
class Source:
    """One image to crop faces from.

    Attributes:
        pixels: ``(h, w, 3)`` uint8, the image at ``scale`` of its full size.
        scale: ``pixels`` size over full size (1, 1/2, 1/4 or 1/8).
        full: returns the full-size ``(H, W, 3)`` uint8 pixels (decodes again);
            None when ``scale == 1``.
    """

    pixels: np.ndarray
    scale: float = 1.0
    full: Optional[Callable[[], np.ndarray]] = None

    def __post_init__(self) -> None:
        if self.scale != 1.0 and self.full is None:
            raise ValueError(f"Source: scale {self.scale} needs a full-size decoder (full=None)")


def crop_from(src: Source, det: Detection, size: int, margin: float, whole_image: bool) -> Tuple[np.ndarray, Detection]:
    """Pixels to cut ``det`` (found in ``src.pixels``) from, and ``det`` in those pixels.

    Returns ``(src.pixels, det)`` when the face's square (``margin`` added) there is at
    least ``size`` pixels, else the full-size pixels and ``det`` in full-size pixels.
    """
    if src.scale == 1.0:
        return src.pixels, det
    side = min(src.pixels.shape[:2]) if whole_image else square_around(det.box, margin)[2]
    if side >= size:
        return src.pixels, det
    return src.full(), det.scaled(1.0 / src.scale)
