"""What to prepare: a folder of images, a reader source spec, or a ready index table."""
from __future__ import annotations

import importlib
import logging
import pkgutil
from typing import Any, Mapping, Union

import pyarrow as pa

log = logging.getLogger("distlm.prepare")

Source = Union[str, Mapping[str, Any], pa.Table]


def _register_readers() -> Any:
    """Import every reader module so the registry is complete; returns ``READERS``."""
    import distlm.data.readers as pkg
    from distlm.data.readers.base import READERS

    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{info.name}")
    return READERS


def load_index(source: Source, storage: Mapping[str, Any] | None = None) -> pa.Table:
    """The index (shared schema) of ``source``.

    Args:
        source: a local folder or ``s3://`` prefix of images (the ``images`` reader:
            unlabelled, label -1); a source spec ``{"format": "rafdb", "path": ...,
            **reader options}``; or an index ``pyarrow.Table``.
        storage: S3 options passed to readers that take them.
    """
    if isinstance(source, pa.Table):
        return source
    _register_readers()
    from distlm.data.readers.dataset import read_table

    spec = {"format": "images", "path": str(source)} if isinstance(source, str) else dict(source)
    if storage and "storage" not in spec:
        spec["storage"] = dict(storage)
    return read_table(spec)
