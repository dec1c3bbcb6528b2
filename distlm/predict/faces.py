"""Every face in every frame: detect (on downscaled copies), crop as training did.

Unlike :func:`distlm.faces.crop_faces` (one face per image, for training crops), the
predictor keeps *all* faces. The crop itself is the same code (``crop_face`` /
``resize_whole`` with the checkpoint's size, margin and alignment), so a face is
preprocessed exactly as the training crops were.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Sequence

import cv2
import numpy as np

from distlm.faces import DETECTORS, CropOptions, FaceDetector, crop_face, eye_angle
from distlm.faces.crop import resize_whole
from distlm.images import downscale


@dataclass(frozen=True)
class Face:
    """One face found in one frame.

    Attributes:
        index: position among the frame's faces (detector order).
        box: ``(4,)`` float32 ``x, y, w, h`` in source pixels.
        score: detector confidence.
        crop: ``(size, size, channels)`` uint8, the model's input.
    """

    index: int
    box: np.ndarray
    score: float
    crop: np.ndarray


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

    def _crop(self, rgb: np.ndarray, box: np.ndarray, landmarks: Optional[np.ndarray]) -> np.ndarray:
        o = self.options
        if self.detector.whole_image:
            crop = resize_whole(rgb, o.size)
        else:
            angle = eye_angle(landmarks) if (o.align and landmarks is not None) else 0.0
            crop = crop_face(rgb, box, o.size, o.margin, angle)
        return to_channels(crop, self.channels)

    def find(self, frames: Sequence[np.ndarray]) -> List[List[Face]]:
        """Faces of each RGB ``(H, W, 3)`` uint8 frame (empty list: no face).

        Detection runs on copies downscaled to ``max_side`` in chunks of
        ``detect_batch``; boxes are mapped back and crops cut from the originals.
        """
        out: List[List[Face]] = []
        step = self.options.detect_batch
        for start in range(0, len(frames), step):
            chunk = frames[start : start + step]
            small = [downscale(f, self.options.max_side) for f in chunk]
            found = self.detector.detect([s for s, _ in small])
            for rgb, (_, scale), dets in zip(chunk, small, found):
                faces = []
                for i, det in enumerate(dets):
                    det = det.scaled(1.0 / scale) if scale != 1.0 else det
                    faces.append(Face(i, det.box.astype(np.float32), float(det.score),
                                      self._crop(rgb, det.box, det.landmarks)))
                out.append(faces)
        return out
