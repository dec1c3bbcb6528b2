"""Typed options of the face stage."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict

from distlm.faces.registry import CHOOSERS, DETECTORS


@dataclass(frozen=True)
class CropOptions:
    """How faces are found and cut.

    Attributes:
        detector: name in ``DETECTORS`` (``mtcnn`` | ``haar`` | ``none``).
        detector_kwargs: extra arguments for the detector (e.g. ``min_face_size``).
        size: output side in pixels (the paper: 227).
        margin: fraction of the longer box side added on each side of the square.
        choose: name in ``CHOOSERS`` (``largest`` | ``most_confident``).
        align: level the eyes from the 5 landmarks (detectors without landmarks: no-op).
        max_side: images larger than this are downscaled before detection; boxes are
            mapped back and the crop is cut from the full-resolution image. 0: never.
            Large JPEGs read by :class:`~distlm.faces.FaceCropper` are also decoded
            reduced in the DCT down to (not below) this side.
        detect_batch: images per detector call.
    """

    detector: str = "mtcnn"
    detector_kwargs: Dict[str, Any] = field(default_factory=dict)
    size: int = 227
    margin: float = 0.1
    choose: str = "largest"
    align: bool = False
    max_side: int = 640
    detect_batch: int = 8

    def __post_init__(self) -> None:
        DETECTORS.get(self.detector)  # unknown names raise with the known ones
        CHOOSERS.get(self.choose)
        if self.size < 1:
            raise ValueError(f"size must be >= 1, got {self.size}")
        if self.margin < 0:
            raise ValueError(f"margin must be >= 0, got {self.margin}")
        if self.max_side < 0:
            raise ValueError(f"max_side must be >= 0 (0: never downscale), got {self.max_side}")
        if self.detect_batch < 1:
            raise ValueError(f"detect_batch must be >= 1, got {self.detect_batch}")

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)
