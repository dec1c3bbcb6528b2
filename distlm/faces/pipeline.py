"""The one face path: detect (on downscaled copies), choose, align, crop from the original.

``prepare`` (training crops, one face per image: :func:`crop_faces`) and ``predict``
(every face: :class:`distlm.predict.faces.FaceFinder`) both call :func:`detect_faces`
and :func:`crop_detection`, so a model is served on crops cut exactly as its training
crops were (``tests/faces/test_crop_parity.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Union

import numpy as np

from distlm.faces.align import eye_angle
from distlm.faces.crop import crop_face, resize_whole
from distlm.faces.detection import Detection
from distlm.faces.detectors.base import FaceDetector
from distlm.faces.options import CropOptions
from distlm.faces.registry import CHOOSERS
from distlm.faces.source import Source, crop_from
from distlm.images.resize import downscale

OK, NO_FACE, MULTIPLE = "ok", "no_face", "multiple_faces"


@dataclass(frozen=True)
class FaceResult:
    """Outcome for one image.

    Attributes:
        outcome: ``ok`` | ``no_face`` | ``multiple_faces`` (a crop was still made).
        crop: ``(size, size, 3)`` uint8, None for ``no_face``.
        box: ``(4,)`` float32 ``x, y, w, h`` of the kept face in source pixels, or None.
        score: the kept face's detector score (0 if none).
        faces: number of faces found.
        kept: index of the kept face among those found (-1 if none).
    """

    outcome: str
    crop: Optional[np.ndarray]
    box: Optional[np.ndarray]
    score: float
    faces: int
    kept: int


def crop_detection(rgb: np.ndarray, det: Detection, detector: FaceDetector, opts: CropOptions) -> np.ndarray:
    """The ``(size, size, 3)`` uint8 crop of one detection, cut from the full-size ``rgb``
    (square with ``opts.margin``, eyes levelled when ``opts.align`` and landmarks exist;
    a whole-image detector resizes the image instead)."""
    if detector.whole_image:
        return resize_whole(rgb, opts.size)
    angle = eye_angle(det.landmarks) if (opts.align and det.landmarks is not None) else 0.0
    return crop_face(rgb, det.box, opts.size, opts.margin, angle)


def detect_faces(images: Sequence[np.ndarray], detector: FaceDetector, opts: CropOptions) -> List[List[Detection]]:
    """Every face of each RGB ``(H_b, W_b, 3)`` uint8 image, in source pixels.

    Detection runs on copies downscaled to ``opts.max_side``, ``opts.detect_batch``
    images per detector call; boxes and landmarks are mapped back to the originals.
    """
    out: List[List[Detection]] = []
    for start in range(0, len(images), opts.detect_batch):
        chunk = images[start : start + opts.detect_batch]
        small = [downscale(im, opts.max_side) for im in chunk]
        found = detector.detect([s for s, _ in small])
        for (_, scale), faces in zip(small, found):
            out.append([f.scaled(1.0 / scale) for f in faces] if scale != 1.0 else list(faces))
    return out


def _result(src: Source, found: List[Detection], detector: FaceDetector, opts: CropOptions) -> FaceResult:
    if not found:
        return FaceResult(NO_FACE, None, None, 0.0, 0, -1)
    kept = CHOOSERS.get(opts.choose)(found) if len(found) > 1 else 0
    face = found[kept]
    outcome = MULTIPLE if len(found) > 1 else OK
    pixels, det = crop_from(src, face, opts.size, opts.margin, detector.whole_image)
    box = face.box if src.scale == 1.0 else face.scaled(1.0 / src.scale).box
    return FaceResult(outcome, crop_detection(pixels, det, detector, opts), box.astype(np.float32), face.score,
                      len(found), kept)


def crop_faces(images: Sequence[Union[np.ndarray, Source]], detector: FaceDetector, opts: CropOptions) -> List[FaceResult]:
    """Training crops: :func:`detect_faces`, keep one face (``opts.choose``), :func:`crop_detection`.

    Args:
        images: ``B`` RGB uint8 arrays ``(H_b, W_b, 3)``, or :class:`Source` (an image
            decoded reduced: detection runs on the reduced pixels, the crop is cut from
            them when the face is large enough there, else from the full-size image).
        detector: a face detector (one call per ``opts.detect_batch`` images).
        opts: crop options.

    Returns:
        ``B`` results in input order; boxes in full-size (source) pixels.

    Example::

        det = DETECTORS.create("mtcnn")
        [res] = crop_faces([rgb], det, CropOptions())
        res.crop.shape  # (227, 227, 3)
    """
    sources = [im if isinstance(im, Source) else Source(im) for im in images]
    found = detect_faces([s.pixels for s in sources], detector, opts)
    return [_result(src, faces, detector, opts) for src, faces in zip(sources, found)]
