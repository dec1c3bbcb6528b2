"""IDX files (the MNIST / Fashion-MNIST format), gzipped or not, as numpy arrays.

Format: two zero bytes, a type byte, a byte with the number of dimensions ``d``, then
``d`` big-endian uint32 sizes, then the data (big-endian). The magic number and the
exact data size are checked; errors name the file.
"""
from __future__ import annotations

import gzip
import zlib
from typing import Dict

import numpy as np

from distlm.data.fs import Storage, read_bytes

IDX_TYPES: Dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def decode_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes (gzip detected by its magic) into an array of the stored shape."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise ValueError(f"{name}: corrupt gzip data ({err})") from None
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise ValueError(f"{name}: not an IDX file (magic {data[:4].hex() or 'missing'}, expected 0000TTDD)")
    code, ndim = data[2], data[3]
    if code not in IDX_TYPES:
        raise ValueError(f"{name}: unknown IDX data type 0x{code:02x}")
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise ValueError(f"{name}: truncated IDX header ({ndim} dimensions, {len(data)} bytes)")
    shape = tuple(int(s) for s in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[code]
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"{name}: IDX size mismatch: shape {shape} needs {expected} data bytes, "
            f"file has {len(data) - header}"
        )
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def load_idx(path: str, storage: Storage = None) -> np.ndarray:
    """Load an IDX file (``*-ubyte`` or ``*-ubyte.gz``), local or ``s3://``.

    Example::

        images = load_idx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
        images.shape  # (60000, 28, 28), uint8
    """
    return decode_idx(read_bytes(path, storage), path)
