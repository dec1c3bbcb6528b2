"""Arrow columns of the shared record schema → numpy arrays and tensors.

The training loader reads only ``image``, ``label``, ``au``, ``au_mask`` (and checks
``domain`` when present). ``image`` may arrive as Ray Data's tensor extension type, as
pyarrow's ``fixed_shape_tensor``, or — when Parquet written by Ray is read without Ray
imported — as a plain list column whose field metadata holds the shape.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch

from distlm.data import image_column

TRAIN_COLUMNS = ("image", "label", "au", "au_mask")


@dataclass
class DomainArrays:
    """All rows of one domain held in memory.

    Shapes: ``images (N, H, W, C) uint8``, ``labels (N,) int64`` (-1 = none),
    ``au (N, M) float32``, ``au_mask (N, M) bool``.
    """

    images: np.ndarray
    labels: np.ndarray
    au: np.ndarray
    au_mask: np.ndarray

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise ValueError(
                f"images must be uint8 (N, H, W, C), got {self.images.dtype} {self.images.shape}"
            )
        n = len(self.images)
        for name in ("labels", "au", "au_mask"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} rows, images has {n}")

    def __len__(self) -> int:
        return len(self.images)

    @staticmethod
    def from_images(images: np.ndarray, labels: Optional[np.ndarray] = None) -> "DomainArrays":
        """Arrays from images ``(N, H, W[, C]) uint8`` and optional labels ``(N,)``."""
        images = images[..., None] if images.ndim == 3 else images
        n = len(images)
        lab = np.full(n, -1, np.int64) if labels is None else np.asarray(labels, np.int64)
        return DomainArrays(images, lab, np.zeros((n, 0), np.float32), np.zeros((n, 0), bool))


def list_array(table: pa.Table, column: str, dtype: np.dtype, fill, source: str = "table") -> np.ndarray:
    """A ``list<…>`` column as ``(N, M)``; null lists and null entries become ``fill``.

    A missing or all-null column gives ``(N, 0)``; lists of different lengths raise.
    """
    n = table.num_rows
    if column not in table.column_names:
        return np.zeros((n, 0), dtype)
    col = table.column(column).combine_chunks()
    valid = col.is_valid().to_numpy(zero_copy_only=False)
    if not valid.any():
        return np.zeros((n, 0), dtype)
    present = col.filter(pa.array(valid))
    lengths = np.unique(pc.list_value_length(present).to_numpy(zero_copy_only=False))
    if len(lengths) != 1:
        raise ValueError(f"{source}: column {column!r} has lists of different lengths {lengths.tolist()}")
    m = int(lengths[0])
    out = np.full((n, m), fill, dtype)
    flat = pc.fill_null(present.flatten(), pa.scalar(fill, present.type.value_type))
    out[valid] = flat.to_numpy(zero_copy_only=False).astype(dtype).reshape(-1, m)
    return out


def label_array(table: pa.Table, column: str = "label") -> np.ndarray:
    """The ``label`` column as ``(N,) int64``; missing column or nulls give -1."""
    if column not in table.column_names:
        return np.full(table.num_rows, -1, np.int64)
    col = pc.fill_null(table.column(column), -1)
    return col.to_numpy().astype(np.int64)


def domain_arrays(table: pa.Table, source: str = "table", domain: Optional[str] = None) -> DomainArrays:
    """All training columns of ``table`` as :class:`DomainArrays`.

    If ``domain`` is given and the table has a ``domain`` column, rows are filtered to it.
    """
    if domain is not None and "domain" in table.column_names:
        table = table.filter(pc.equal(table.column("domain"), domain))
    return DomainArrays(
        images=image_column.decode(table, "image", source),
        labels=label_array(table),
        au=list_array(table, "au", np.float32, 0.0, source),
        au_mask=list_array(table, "au_mask", np.bool_, False, source),
    )


def arrow_to_tensors(table: pa.Table, source: str = "batch") -> Dict[str, torch.Tensor]:
    """One Arrow batch → ``{"images", "labels", "au", "au_mask"}`` host tensors."""
    arrays = domain_arrays(table, source)
    with warnings.catch_warnings():
        # Arrow buffers are read-only; the pipeline never writes pixels in place.
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        images = torch.from_numpy(np.ascontiguousarray(arrays.images))
    return {
        "images": images,
        "labels": torch.from_numpy(arrays.labels),
        "au": torch.from_numpy(arrays.au),
        "au_mask": torch.from_numpy(arrays.au_mask),
    }
