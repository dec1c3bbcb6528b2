"""The image column: the one module that encodes, decodes, types and versions it.

Layouts it reads (:func:`decode`), whatever wrote them:

- **binary** (what ``prepare`` writes, layout version :data:`VERSION`): ``fixed_size_binary(H·W·C)``,
  one plain value per row, with ``distlm.shape`` (JSON ``[H, W, C]``) and
  ``distlm.image_version`` in the field metadata; read back zero-copy, 25-40x faster
  than a tensor column (``benchmarks/bench_read.py``). Written by :func:`binary`.
- **tensor** (what the readers hold in memory): Arrow's ``fixed_shape_tensor``
  (:func:`tensor`), or Ray Data's tensor extension type.
- **list**: nested ``list<uint8>`` columns (Parquet written by Ray and read without Ray
  imported), shaped from the field metadata when present.

A column stamped with another layout version than this distlm's is refused with one
line naming both versions (:func:`check_version`): re-run ``prepare``.
"""
from __future__ import annotations

import json
from typing import Optional, Tuple, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distlm.errors import UserError

VERSION = 2  # 1: the tensor (list) layout of earlier prepare runs; 2: fixed_size_binary
SHAPE_KEY = b"distlm.shape"  # field metadata of a binary ``image`` column: JSON [H, W, C]
VERSION_KEY = b"distlm.image_version"


class ImageLayoutError(UserError):
    """An image column written in a layout version this distlm does not read."""


def tensor(images: np.ndarray) -> pa.ExtensionArray:
    """A ``fixed_shape_tensor`` column from uint8 images ``(N, H, W, C)`` (the in-memory layout)."""
    _check_images(images)
    n, h, w, c = images.shape
    flat = pa.array(np.ascontiguousarray(images).reshape(-1), type=pa.uint8())
    storage = pa.FixedSizeListArray.from_arrays(flat, h * w * c)
    return pa.ExtensionArray.from_storage(pa.fixed_shape_tensor(pa.uint8(), (h, w, c)), storage)


def binary(images: np.ndarray, name: str = "image") -> Tuple[pa.Field, pa.Array]:
    """``(N, H, W, C) uint8`` → the on-disk ``fixed_size_binary(H·W·C)`` field (shape and
    layout version in its metadata) and array; no copy beyond one ``tobytes``."""
    _check_images(images)
    n, h, w, c = images.shape
    typ = pa.binary(h * w * c)
    arr = pa.FixedSizeBinaryArray.from_buffers(typ, n, [None, pa.py_buffer(np.ascontiguousarray(images).tobytes())])
    return binary_field(name, (h, w, c)), arr


def binary_field(name: str, shape: Tuple[int, int, int]) -> pa.Field:
    """The field of a binary image column of ``shape`` ``(H, W, C)``."""
    h, w, c = shape
    return pa.field(name, pa.binary(h * w * c), nullable=False,
                    metadata={SHAPE_KEY: json.dumps([h, w, c]).encode(), VERSION_KEY: str(VERSION).encode()})


def to_binary(table: pa.Table, column: str = "image", source: str = "table",
              shape: Optional[Tuple[int, int, int]] = None) -> pa.Table:
    """``table`` with its ``image`` column in the binary layout: re-encoded from another
    layout, or, when already binary, only (re)stamped with ``shape`` and the version
    (Ray Data may drop field metadata between stages; the bytes are not copied)."""
    i = table.schema.get_field_index(column)
    if i < 0:
        return table
    field = table.schema.field(i)
    if pa.types.is_fixed_size_binary(field.type):
        if shape is None or (field.metadata or {}).get(SHAPE_KEY):
            return table
        return table.set_column(i, binary_field(column, shape), table.column(i))
    if table.num_rows == 0:
        images = np.zeros((0, *_tensor_shape(table.schema.field(i).type)), np.uint8)
    else:
        images = decode(table, column, source)
    field, arr = binary(images, column)
    return table.set_column(i, field, arr)


def check_version(field: pa.Field, source: str) -> None:
    """Raise :class:`ImageLayoutError` when ``field`` is stamped with another layout version."""
    raw = (field.metadata or {}).get(VERSION_KEY)
    if raw is not None and raw.decode() != str(VERSION):
        raise ImageLayoutError(
            f"{source}: image column {field.name!r} is in layout version {raw.decode()}; this distlm reads "
            f"version {VERSION} (re-run `python -m distlm.prepare` on the raw images)")


def decode_column(column: Union[pa.Array, pa.ChunkedArray], field: Optional[pa.Field] = None,
                  source: str = "table") -> np.ndarray:
    """One image column (any layout above) as ``(N, H, W, C)`` uint8."""
    field = field or pa.field("image", column.type)
    return decode(pa.table([column], schema=pa.schema([field])), field.name, source)


def _shape_from_field(field: pa.Field) -> Optional[tuple]:
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


def decode(table: pa.Table, column: str = "image", source: str = "table") -> np.ndarray:
    """The ``image`` column as ``(N, H, W, C) uint8`` (``C = 1`` added for ``(N, H, W)``)."""
    if column not in table.column_names:
        raise KeyError(f"{source}: no {column!r} column (columns: {table.column_names})")
    check_version(table.schema.field(column), source)
    col = table.column(column)
    col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    typ = col.type
    if pa.types.is_fixed_size_binary(typ) or pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
        arr = _binary_to_numpy(col, _shape_from_field(table.schema.field(column)), source, column)
    elif isinstance(typ, pa.FixedShapeTensorType):
        arr = col.to_numpy_ndarray()
    elif isinstance(typ, pa.ExtensionType) and hasattr(col, "to_numpy"):
        arr = np.asarray(col.to_numpy())  # Ray Data's ArrowTensorArray
    else:
        storage = col.storage if isinstance(typ, pa.ExtensionType) else col
        arr = _nested_list_to_numpy(storage, _shape_from_field(table.schema.field(column)), source, column)
    if arr.dtype == object:
        raise ValueError(f"{source}: column {column!r} holds images of different shapes; crop them first")
    if arr.dtype != np.uint8:
        raise ValueError(f"{source}: column {column!r} must hold uint8 pixels, got {arr.dtype}")
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4:
        raise ValueError(f"{source}: column {column!r} must be (N, H, W, C), got shape {arr.shape}")
    return arr


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


def _check_images(images: np.ndarray) -> None:
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, H, W, C), got {images.dtype} {images.shape}")


def _tensor_shape(typ: pa.DataType) -> tuple:
    shape = getattr(typ, "shape", None)
    if shape is None:
        raise ValueError(f"cannot tell the image shape of an empty column of type {typ}")
    shape = tuple(int(s) for s in shape)
    return shape if len(shape) == 3 else shape + (1,)
