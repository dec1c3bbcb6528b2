"""Read a file's bytes from a local path or an ``s3://`` URI (via ``distlm.data.fs``)."""
from __future__ import annotations

from typing import Any, Mapping, Optional

from distlm.images.errors import DecodeError


def read_bytes(path: str, storage: Optional[Mapping[str, Any]] = None) -> bytes:
    """Whole file contents.

    Args:
        path: local path or ``s3://bucket/key``.
        storage: S3 options as in ``distlm.data.fs`` (``endpoint_url``, ``region``...).

    Raises:
        DecodeError: ``unreadable_file`` when the file cannot be opened or read.
    """
    from distlm.data.fs import read_bytes as fs_read_bytes

    try:
        return fs_read_bytes(path, storage)
    except OSError as err:
        raise DecodeError("unreadable_file", path, str(err)) from err
