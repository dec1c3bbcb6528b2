"""Read and write small text files, local or remote (``s3://...`` via fsspec)."""
from __future__ import annotations

import os
import posixpath
from pathlib import Path


def is_url(path: str) -> bool:
    return "://" in str(path)


def read_text(path: str) -> str:
    """Return the text of ``path``; FileNotFoundError names it."""
    if is_url(path):
        import fsspec  # only needed for remote specs

        with fsspec.open(path, "r", encoding="utf-8") as fh:
            return fh.read()
    return Path(path).read_text(encoding="utf-8")


def write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path``, creating local parent folders."""
    if is_url(path):
        import fsspec

        with fsspec.open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="utf-8")


def resolve_relative(base_file: str, target: str) -> str:
    """``target`` relative to the folder of ``base_file`` (absolute targets kept)."""
    if is_url(target) or os.path.isabs(target):
        return target
    if is_url(base_file):
        scheme, rest = base_file.split("://", 1)
        return f"{scheme}://" + posixpath.normpath(posixpath.join(posixpath.dirname(rest), target))
    return os.path.normpath(os.path.join(os.path.dirname(base_file), target))
