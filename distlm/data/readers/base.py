"""The reader registry and the thin ``Reader`` object on top of reader functions.

A reader is a pure function ``read_x(path, *, storage=None, strict=False, **options)
-> (pyarrow.Table, ReadReport)`` registered with ``@READERS.register("x")``.
``create_reader`` binds the path and options (an unknown option fails here, naming
the accepted ones) and returns a ``Reader`` whose ``read()`` runs the function.

Example::

    reader = create_reader("rafdb", "/data/RAF-DB", variant="aligned")
    table, report = reader.read()
    print(report.summary())
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Tuple

import pyarrow as pa

from distlm.data.report import ReadReport
from distlm.registry import Registry

ReadResult = Tuple[pa.Table, ReadReport]
ReaderFn = Callable[..., ReadResult]

READERS: Registry[ReadResult] = Registry("reader")


@dataclass
class Reader:
    """A reader function bound to a path and options; ``read()`` does the work."""

    format: str
    path: str
    options: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        fn = READERS.get(self.format)
        sig = inspect.signature(fn)
        try:
            sig.bind(self.path, **self.options)
        except TypeError as err:
            accepted = [p for p in sig.parameters if p != "path"]
            raise ValueError(
                f"reader {self.format!r}: {err}; accepted options: {accepted}"
            ) from None
        self._fn: ReaderFn = fn

    def read(self) -> ReadResult:
        """Read the index: ``(table in the shared schema, report)``."""
        return self._fn(self.path, **self.options)


def create_reader(format: str, path: str, **options: Any) -> Reader:
    """A ``Reader`` for ``format`` (see ``list_readers()``) on ``path``."""
    return Reader(format, path, dict(options))


def list_readers() -> List[str]:
    """Names of the registered readers."""
    return READERS.list()


def read_index(format: str, path: str, **options: Any) -> ReadResult:
    """``create_reader(format, path, **options).read()``."""
    return create_reader(format, path, **options).read()
