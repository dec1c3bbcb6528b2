"""Output column names: the face, where it is, and how a row was found.

Names follow py-feat (``FaceRectX``… ``FaceScore``, ``input``, ``frame``, ``AU01``…,
``anger``…) and OpenFace (``face_id``, ``timestamp``) where those tools have one;
:data:`RENAMED` maps the names of earlier distlm releases to them. The five detector
landmarks (:data:`distlm.faces.detection.LANDMARKS`) are ``x_<point>`` / ``y_<point>``
(py-feat and OpenFace number their 68 points ``x_0``…``x_67``: five named points
cannot be confused with those).
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from distlm.faces.detection import LANDMARKS

#: ``x_left_eye, y_left_eye, x_right_eye, ...`` in :data:`LANDMARKS` order; null
#: for detectors without landmarks (``haar``, ``none``).
LANDMARK_COLUMNS: Tuple[str, ...] = tuple(f"{axis}_{point}" for point in LANDMARKS for axis in "xy")
RECT_COLUMNS: Tuple[str, ...] = ("FaceRectX", "FaceRectY", "FaceRectWidth", "FaceRectHeight")

#: Every face row starts with these, then the score columns of
#: :func:`distlm.predict.scoring.score_columns`.
FACE_COLUMNS: Tuple[str, ...] = ("input", "frame", "timestamp", "face_id", *RECT_COLUMNS, "FaceScore",
                                 *LANDMARK_COLUMNS)
#: The errors file: one row per unreadable input and per frame without a face.
ERROR_COLUMNS: Tuple[str, ...] = ("input", "frame", "timestamp", "reason", "detail")

#: Old distlm column name → the current one.
RENAMED: Dict[str, str] = {"source": "input", "face": "face_id", "x": "FaceRectX", "y": "FaceRectY",
                           "w": "FaceRectWidth", "h": "FaceRectHeight", "det_score": "FaceScore"}


def face_fields(box: np.ndarray, score: float, landmarks: Optional[np.ndarray]) -> Dict[str, Any]:
    """Rect, score and landmark columns of one face.

    Args:
        box: ``(4,)`` ``x, y, w, h`` in source pixels.
        score: detector confidence.
        landmarks: ``(5, 2)`` ``x, y`` in :data:`LANDMARKS` order, or None (columns null).
    """
    out: Dict[str, Any] = dict(zip(RECT_COLUMNS, (float(v) for v in box)))
    out["FaceScore"] = float(score)
    pts = [None] * len(LANDMARK_COLUMNS) if landmarks is None else [float(v) for v in np.asarray(landmarks).ravel()]
    out.update(zip(LANDMARK_COLUMNS, pts))
    return out
