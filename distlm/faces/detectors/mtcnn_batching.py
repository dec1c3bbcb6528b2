"""How a batch of images of different shapes goes through one ``mtcnn`` model.

What the ``mtcnn`` package (1.0) does with a list: ``standarize_batch`` zero-pads every
image to the batch's largest height and width (``batch_stack_justification``, default
``"center"``), runs P/R/O-Net on the stacked tensor with the scale pyramid of the
image with the most scales, then subtracts each image's padding offset from its boxes
and clips them to the image's own shape. Centred padding shifts the images, and its
offset correction pairs offsets with the *images that have faces* rather than with
their positions (``zip(np.unique(ids), pad_param)``), so a batch whose first image has
no face gets another image's offset: boxes shift, by up to half the size difference.

``shape`` (the default) calls the package once per group of same-shape images: no
padding, exactly the single-image result. Detection runs on copies downscaled to
``max_side``, so photos of one aspect ratio share a shape whatever their native size.
``pad`` sends the whole batch in one call with ``"topleft"`` justification: each image
sits at the canvas origin, every offset is zero (nothing to mis-pair), boxes come back
in the image's own pixels and are clipped to its own shape; they differ from the
single-image ones by up to ~3 px (the pyramid resizes the canvas, not the image, so
rounding differs) and it was not faster on one core (``docs/benchmarks.md``). Modes are registered in
:data:`BATCHING`; each takes ``(model, images, min_face_size)`` and returns one list of
the package's face dicts per image.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List

import numpy as np

Faces = List[Dict[str, Any]]


def single(model: Any, images: List[np.ndarray], min_face: int) -> List[Faces]:
    """One ``detect_faces`` call per image (the reference result)."""
    return [model.detect_faces(im, min_face_size=min_face) for im in images]


def by_shape(model: Any, images: List[np.ndarray], min_face: int) -> List[Faces]:
    """One call per group of same-shape images (no padding at all)."""
    groups: Dict[tuple, List[int]] = {}
    for i, im in enumerate(images):
        groups.setdefault(im.shape, []).append(i)
    out: List[Faces] = [[] for _ in images]
    for idx in groups.values():
        for i, faces in zip(idx, pad(model, [images[i] for i in idx], min_face)):
            out[i] = faces
    return out


def pad(model: Any, images: List[np.ndarray], min_face: int) -> List[Faces]:
    """One call for the whole batch, each image zero-padded on its bottom and right."""
    if len(images) == 1:
        return single(model, images, min_face)
    return model.detect_faces(list(images), min_face_size=min_face, batch_stack_justification="topleft")


BATCHING: Dict[str, Callable[[Any, List[np.ndarray], int], List[Faces]]] = {
    "pad": pad,
    "shape": by_shape,
    "single": single,
}
