"""Arrow columns of the shared record schema → numpy arrays and tensors.

The training loader reads only ``image``, ``label``, ``au``, ``au_mask`` (and checks
``domain`` when present). ``image`` may arrive as Ray Data's tensor extension type, as
pyarrow's ``fixed_shape_tensor``, or — when Parquet written by Ray is read without Ray
imported — as a plain list column whose field metadata holds the shape.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch

TRAIN_COLUMNS = ("image", "label", "au", "au_mask")
SHAPE_KEY = b"distlm.shape"  # field metadata of a binary ``image`` column: JSON [H, W, C]


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


def _tensor_shape_from_field(field: pa.Field) -> Optional[tuple]:
    meta = field.metadata or {}
    raw = meta.get(SHAPE_KEY, meta.get(b"ARROW:extension:metadata"))
    if raw is None:
        return None
    try:
        shape = json.loads(raw)
    except ValueError:
        return None
    if isinstance(shape, dict):  # pyarrow fixed_shape_tensor metadata: {"shape": [...]}
        shape = shape.get("shape")
    return tuple(int(s) for s in shape) if isinstance(shape, list) else None


def image_array(table: pa.Table, column: str = "image", source: str = "table") -> np.ndarray:
    """The ``image`` column as ``(N, H, W, C) uint8`` (``C = 1`` added for ``(N, H, W)``)."""
    if column not in table.column_names:
        raise KeyError(f"{source}: no {column!r} column (columns: {table.column_names})")
    col = table.column(column)
    col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    typ = col.type
    if pa.types.is_fixed_size_binary(typ) or pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
        arr = _binary_to_numpy(col, _tensor_shape_from_field(table.schema.field(column)), source, column)
    elif isinstance(typ, pa.FixedShapeTensorType):
        arr = col.to_numpy_ndarray()
    elif isinstance(typ, pa.ExtensionType) and hasattr(col, "to_numpy"):
        arr = np.asarray(col.to_numpy())  # Ray Data's ArrowTensorArray
    else:
        storage = col.storage if isinstance(typ, pa.ExtensionType) else col
        arr = _nested_list_to_numpy(storage, _tensor_shape_from_field(table.schema.field(column)), source, column)
    if arr.dtype == object:
        raise ValueError(f"{source}: column {column!r} holds images of different shapes; crop them first")
    if arr.dtype != np.uint8:
        raise ValueError(f"{source}: column {column!r} must hold uint8 pixels, got {arr.dtype}")
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4:
        raise ValueError(f"{source}: column {column!r} must be (N, H, W, C), got shape {arr.shape}")
    return arr


def image_binary_column(images: np.ndarray, name: str = "image") -> Tuple[pa.Field, pa.Array]:
    """``(N, H, W, C) uint8`` → a ``fixed_size_binary(H·W·C)`` field (shape in its metadata) and array.

    The fast on-disk layout for Parquet crops: one plain value per row, read back
    zero-copy, about 40× faster than a tensor (list) column (``benchmarks/bench_read.py``).
    """
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, H, W, C), got {images.dtype} {images.shape}")
    n, h, w, c = images.shape
    typ = pa.binary(h * w * c)
    arr = pa.FixedSizeBinaryArray.from_buffers(typ, n, [None, pa.py_buffer(np.ascontiguousarray(images).tobytes())])
    field = pa.field(name, typ, nullable=False, metadata={SHAPE_KEY: json.dumps([h, w, c]).encode()})
    return field, arr


def _binary_to_numpy(col: pa.Array, shape: Optional[tuple], source: str, column: str) -> np.ndarray:
    n = len(col)
    if shape is None:
        raise ValueError(f"{source}: binary column {column!r} has no {SHAPE_KEY.decode()!r} field metadata")
    if col.null_count:
        raise ValueError(f"{source}: column {column!r} has {col.null_count} null images")
    size = int(np.prod(shape))
    if pa.types.is_fixed_size_binary(col.type):
        if col.type.byte_width != size:
            raise ValueError(f"{source}: column {column!r} holds {col.type.byte_width} bytes per image, shape {shape} needs {size}")
        data = np.frombuffer(col.buffers()[1], np.uint8, count=n * size, offset=col.offset * size)
    else:
        otype = np.int64 if pa.types.is_large_binary(col.type) else np.int32
        offsets = np.frombuffer(col.buffers()[1], otype, count=n + 1, offset=col.offset * np.dtype(otype).itemsize)
        if n and not (np.diff(offsets) == size).all():
            raise ValueError(f"{source}: column {column!r} has images of other sizes than shape {shape}")
        data = np.frombuffer(col.buffers()[2], np.uint8, count=n * size, offset=int(offsets[0]) if n else 0)
    return data.reshape((n,) + tuple(shape))


def _nested_list_to_numpy(col: pa.Array, shape: Optional[tuple], source: str, column: str) -> np.ndarray:
    n = len(col)
    if col.null_count:
        raise ValueError(f"{source}: column {column!r} has {col.null_count} null images")
    values, dims = col, []
    while pa.types.is_list(values.type) or pa.types.is_large_list(values.type) or pa.types.is_fixed_size_list(values.type):
        lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
        uniq = np.unique(lengths)
        if len(uniq) > 1:
            raise ValueError(f"{source}: column {column!r} holds images of different shapes")
        dims.append(int(uniq[0]) if len(uniq) else 0)
        values = values.flatten()
    flat = values.to_numpy(zero_copy_only=False)
    if shape is not None and int(np.prod(shape)) * n == flat.size:
        return flat.reshape((n,) + shape)
    return flat.reshape([n] + dims)


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
        images=image_array(table, "image", source),
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
