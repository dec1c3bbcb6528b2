"""``mtcnn``: the MTCNN of Zhang et al. 2016 (``mtcnn`` package, TensorFlow; GPU when one is visible)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from distlm.faces.detection import LANDMARKS, Detection
from distlm.faces.detectors.base import FaceDetector
from distlm.faces.detectors.mtcnn_batching import BATCHING
from distlm.faces.registry import DETECTORS
from distlm.faces.threads import assigned_cpus, pin_tensorflow_threads


def _to_detection(face: Dict[str, Any]) -> Detection:
    marks = face.get("keypoints")
    landmarks = None if not marks else np.array([marks[k] for k in LANDMARKS], np.float32)
    return Detection(np.asarray(face["box"], np.float32), float(face["confidence"]), landmarks)


def _default_device() -> str:
    import tensorflow as tf

    return "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"


@DETECTORS.register("mtcnn")
class MTCNNDetector(FaceDetector):
    """MTCNN, batched (see :meth:`_call`).

    Args:
        num_threads: TensorFlow intra/inter-op threads (default: the CPUs Ray assigned).
        min_face_size: smallest face searched, pixels.
        device: TensorFlow device string; default ``GPU:0`` when TensorFlow sees a GPU
            (an actor given ``num_gpus``), else ``CPU:0``.
        batching: ``shape`` (one call per same-shape group: exactly the single-image
            result), ``pad`` (one call per batch of any shapes, boxes within ~3 px) or
            ``single`` (image by image); see
            :mod:`distlm.faces.detectors.mtcnn_batching`.
    """

    def __init__(
        self,
        num_threads: Optional[int] = None,
        min_face_size: int = 20,
        device: Optional[str] = None,
        batching: str = "shape",
    ) -> None:
        if batching not in BATCHING:
            raise ValueError(f"mtcnn detector: batching must be one of {sorted(BATCHING)}, got {batching!r}")
        pin_tensorflow_threads(num_threads or assigned_cpus())
        from mtcnn import MTCNN  # imported after pinning: TF reads the settings once

        self._model = MTCNN(device=device or _default_device())
        self._min = min_face_size
        self._batching = batching

    def _call(self, images: List[np.ndarray]) -> List[List[Dict[str, Any]]]:
        """The package's face dicts per image, batched by ``self._batching``."""
        return BATCHING[self._batching](self._model, images, self._min)

    def detect(self, images: Sequence[np.ndarray]) -> List[List[Detection]]:
        usable = [i for i, im in enumerate(images) if min(im.shape[:2]) >= self._min]
        found: List[List[Detection]] = [[] for _ in images]
        if usable:
            raw = self._call([np.ascontiguousarray(images[i]) for i in usable])
            for i, faces in zip(usable, raw):
                found[i] = [_to_detection(f) for f in faces]
        return found
