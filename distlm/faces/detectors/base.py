"""The detector interface: a batch of RGB images in, a list of faces per image out."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import List, Sequence

import numpy as np

from distlm.faces.detection import Detection


class FaceDetector(ABC):
    """Finds faces. Subclasses implement :meth:`detect` only.

    ``whole_image`` detectors (``none``) report the full frame: the crop then resizes
    the whole image instead of cutting a margin-padded square around the box.
    """

    whole_image: bool = False

    @abstractmethod
    def detect(self, images: Sequence[np.ndarray]) -> List[List[Detection]]:
        """Faces in each image.

        Args:
            images: ``B`` arrays ``(H_b, W_b, 3)`` uint8 RGB (sizes may differ).

        Returns:
            ``B`` lists of :class:`Detection`, boxes in each image's own pixels.
        """
