"""Every face in every frame, through the one face path of ``distlm.faces``.

Unlike :func:`distlm.faces.crop_faces` (one face per image, for training crops), the
predictor keeps *all* faces; detection and cropping are the same functions
(:func:`distlm.faces.pipeline.detect_faces`, :func:`~distlm.faces.pipeline.crop_detection`
with the checkpoint's crop settings), so a face is preprocessed exactly as the
training crops were.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence

import cv2
import numpy as np

from distlm.faces import DETECTORS, CropOptions, FaceDetector
from distlm.faces.pipeline import crop_detection, detect_faces


@dataclass(frozen=True)
class Face:
    """One face found in one frame.

    Attributes:
        index: position among the frame's faces (detector order).
        box: ``(4,)`` float32 ``x, y, w, h`` in source pixels.
        score: detector confidence.
        crop: ``(size, size, channels)`` uint8, the model's input.
        landmarks: ``(5, 2)`` float32 ``x, y`` in source pixels (left eye, right eye,
            nose, mouth left, mouth right), or None when the detector gives none.
    """

    index: int
    box: np.ndarray
    score: float
    crop: np.ndarray
    landmarks: Optional[np.ndarray] = None


def to_rgb(image: Any) -> np.ndarray:
    """``(H, W, 3)`` uint8 from a PIL image, an ``(H, W)``/``(H, W, 1|3|4)`` array or a tensor.

    Tensors in ``(C, H, W)`` layout (C in 1, 3) are transposed; float arrays in
    ``[0, 1]`` are scaled to 0-255.
    """
    if hasattr(image, "convert") and hasattr(image, "size"):  # PIL
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
    if hasattr(image, "detach"):  # torch tensor
        arr = image.detach().cpu().numpy()
        if arr.ndim == 3 and arr.shape[0] in (1, 3) and arr.shape[-1] not in (1, 3, 4):
            arr = arr.transpose(1, 2, 0)
    else:
        arr = np.asarray(image)
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.size and float(arr.max()) <= 1.0:
            arr = arr * 255.0
        arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected an image (H, W), (H, W, 1|3|4) or (C, H, W), got shape {arr.shape}")
    if arr.shape[2] == 1:
        return np.repeat(arr, 3, axis=2)
    return np.ascontiguousarray(arr[..., :3])


def to_channels(crop: np.ndarray, channels: int) -> np.ndarray:
    """An RGB ``(S, S, 3)`` crop as the model's ``(S, S, channels)`` (1: OpenCV grey)."""
    if channels == 3:
        return crop
    if channels == 1:
        return cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)[..., None]
    raise ValueError(f"models with {channels} input channels are not supported (1 or 3)")


class FaceFinder:
    """Detector + crop settings of one checkpoint.

    Args:
        options: the checkpoint's :class:`CropOptions` (``size`` = model input side).
        channels: model input channels.
        num_threads: detector threads (None: what Ray assigned, else all CPUs).
        detector: an already built detector to share (else one is created).
    """

    def __init__(self, options: CropOptions, channels: int, num_threads: Optional[int] = None,
                 detector: Optional[FaceDetector] = None) -> None:
        self.options, self.channels = options, channels
        self.detector = detector or DETECTORS.create(options.detector, num_threads=num_threads,
                                                     **options.detector_kwargs)

    def find(self, frames: Sequence[np.ndarray]) -> List[List[Face]]:
        """Faces of each RGB ``(H, W, 3)`` uint8 frame (empty list: no face)."""
        out: List[List[Face]] = []
        for rgb, dets in zip(frames, detect_faces(frames, self.detector, self.options)):
            out.append([Face(i, det.box.astype(np.float32), float(det.score),
                             to_channels(crop_detection(rgb, det, self.detector, self.options), self.channels),
                             None if det.landmarks is None else np.asarray(det.landmarks, np.float32))
                        for i, det in enumerate(dets)])
        return out
