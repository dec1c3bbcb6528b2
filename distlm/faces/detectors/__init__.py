"""Face detectors; importing this package registers ``mtcnn``, ``haar`` and ``none``.

``mtcnn`` imports TensorFlow only when created, so ``haar``/``none`` stay light.
"""
from distlm.faces.detectors import haar, mtcnn, none  # noqa: F401  (registration)
from distlm.faces.detectors.base import FaceDetector

__all__ = ["FaceDetector"]
