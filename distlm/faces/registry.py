"""Registries of the face stage: detectors and the rule that picks one face."""
from __future__ import annotations

from distlm.registry import Registry

#: ``DETECTORS.create(name, num_threads=..., **kw)`` -> a :class:`FaceDetector`.
DETECTORS: Registry = Registry("face detector")
#: ``CHOOSERS.get(name)(detections) -> index`` of the face to keep.
CHOOSERS: Registry = Registry("face choice")
