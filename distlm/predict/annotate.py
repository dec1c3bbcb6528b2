"""``--annotate DIR``: copies of the inputs with face boxes and labels drawn (OpenCV).

One JPEG per image and per sampled video frame with faces, named by
:func:`annotated_name`: the input's file name with its extension, a hash of its
full path (``x.jpg`` and ``x.png``, or ``a/x.jpg`` and ``b/x.jpg``, never share a
file) and, for videos, the frame index.
"""
from __future__ import annotations

import hashlib
import os
import re
from collections import defaultdict
from typing import Any, Dict, List, Mapping, Optional, Sequence

import cv2
import numpy as np

from distlm.data.fs import atomic_local
from distlm.images import DecodeError, decode_image, read_bytes
from distlm.predict.columns import RECT_COLUMNS
from distlm.predict.defaults import FRAME_STEP
from distlm.predict.inputs import VIDEO, kind_of, video_frames


def label_of(row: Mapping[str, Any]) -> str:
    """Short text for a face: the predicted expression (or pseudo-emotion / on AUs) and score."""
    if row.get("expression") is not None:
        return f"{row['expression']} {float(row.get(row['expression'], 0.0)):.2f}"
    if row.get("pseudo_emotion") is not None:
        return str(row["pseudo_emotion"])
    on = [k[:-3] for k, v in row.items() if k.endswith("_on") and v]
    return " ".join(on[:6]) or "no AU"


def draw(rgb: np.ndarray, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """A BGR copy of ``rgb`` with a box and a label per row (ready for ``cv2.imwrite``)."""
    img = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    thick = max(1, round(max(img.shape[:2]) / 400))
    for r in rows:
        x, y, w, h = (int(round(float(r[k]))) for k in RECT_COLUMNS)
        cv2.rectangle(img, (x, y), (x + w, y + h), (0, 255, 0), thick)
        cv2.putText(img, label_of(r), (x, max(12, y - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thick,
                    (0, 255, 0), thick, cv2.LINE_AA)
    return img


def annotated_name(source: str, frame: Optional[int] = None) -> str:
    """File name of the annotated copy of ``source`` (frame ``frame`` of a video).

    >>> annotated_name("/data/a/x.png")[:6], annotated_name("/data/a/x.png").endswith(".jpg")
    ('x_png-', True)
    """
    base = re.sub(r"[^A-Za-z0-9-]+", "_", os.path.basename(source.rstrip("/")) or "input")
    digest = hashlib.sha1(source.encode("utf-8")).hexdigest()[:10]
    return f"{base}-{digest}" + (f"_f{frame:06d}.jpg" if frame is not None else ".jpg")


def _imwrite(path: str, bgr: np.ndarray) -> None:
    """``cv2.imwrite`` whole or not at all (:func:`~distlm.data.fs.atomic_local`)."""
    with atomic_local(path) as tmp:
        if not cv2.imwrite(tmp, bgr):
            raise OSError(f"{path}: could not write the annotated image")


def annotate(rows: Sequence[Mapping[str, Any]], out_dir: str, every: int = FRAME_STEP,
             storage: Optional[Mapping[str, Any]] = None) -> List[str]:
    """Write one annotated JPEG per image (and per sampled video frame with faces) to
    ``out_dir``; ``rows`` are face rows (:data:`~distlm.predict.columns.FACE_COLUMNS`),
    all those of each input they name. Returns the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    by_source: Dict[str, Dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by_source[str(r["input"])][int(r["frame"])].append(r)
    written = []
    for source, frames in by_source.items():
        try:
            if kind_of(source) == VIDEO:
                for f, rgb in video_frames(source, every, storage):
                    if f in frames:
                        path = os.path.join(out_dir, annotated_name(source, f))
                        _imwrite(path, draw(rgb, frames[f]))
                        written.append(path)
            elif not source.startswith("<"):
                rgb = decode_image(read_bytes(source, storage), source)
                path = os.path.join(out_dir, annotated_name(source))
                _imwrite(path, draw(rgb, frames[0]))
                written.append(path)
        except DecodeError:
            continue
    return written
