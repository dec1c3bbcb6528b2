"""``mtcnn``: the MTCNN of Zhang et al. 2016 (``mtcnn`` package, TensorFlow, CPU)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from distlm.faces.detection import LANDMARKS, Detection
from distlm.faces.detectors.base import FaceDetector
from distlm.faces.registry import DETECTORS
from distlm.faces.threads import assigned_cpus, pin_tensorflow_threads


def _to_detection(face: Dict[str, Any]) -> Detection:
    marks = face.get("keypoints")
    landmarks = None if not marks else np.array([marks[k] for k in LANDMARKS], np.float32)
    return Detection(np.asarray(face["box"], np.float32), float(face["confidence"]), landmarks)


@DETECTORS.register("mtcnn")
class MTCNNDetector(FaceDetector):
    """MTCNN, batched over same-shape images (see :meth:`_call`).

    Args:
        num_threads: TensorFlow intra/inter-op threads (default: the CPUs Ray assigned).
        min_face_size: smallest face searched, pixels.
        device: TensorFlow device string.
        batched: one call per same-shape group (faster) or image by image.
    """

    def __init__(
        self,
        num_threads: Optional[int] = None,
        min_face_size: int = 20,
        device: str = "CPU:0",
        batched: bool = True,
    ) -> None:
        pin_tensorflow_threads(num_threads or assigned_cpus())
        from mtcnn import MTCNN  # imported after pinning: TF reads the settings once

        self._model = MTCNN(device=device)
        self._min = min_face_size
        self._batched = batched

    def _call(self, images: List[np.ndarray]) -> List[List[Dict[str, Any]]]:
        """One ``detect_faces`` call per group of same-shape images.

        mtcnn 1.0 pads mixed-shape batches to the largest image, which shifts (and
        can corrupt) boxes; same-shape batches give exactly the single-image result.
        """
        if not self._batched:
            return [self._model.detect_faces(im, min_face_size=self._min) for im in images]
        groups: Dict[tuple, List[int]] = {}
        for i, im in enumerate(images):
            groups.setdefault(im.shape, []).append(i)
        out: List[List[Dict[str, Any]]] = [[] for _ in images]
        for idx in groups.values():
            if len(idx) == 1:
                out[idx[0]] = self._model.detect_faces(images[idx[0]], min_face_size=self._min)
                continue
            for i, faces in zip(idx, self._model.detect_faces([images[i] for i in idx], min_face_size=self._min)):
                out[i] = faces
        return out

    def detect(self, images: Sequence[np.ndarray]) -> List[List[Detection]]:
        usable = [i for i, im in enumerate(images) if min(im.shape[:2]) >= self._min]
        found: List[List[Detection]] = [[] for _ in images]
        if usable:
            raw = self._call([np.ascontiguousarray(images[i]) for i in usable])
            for i, faces in zip(usable, raw):
                found[i] = [_to_detection(f) for f in faces]
        return found
