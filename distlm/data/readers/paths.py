"""Names from annotation files turned into paths that cannot leave the dataset root.

A name that is absolute (``/etc/passwd``, ``C:\\x``, ``s3://other/x``) or that
contains a ``..`` component is refused, always, strict or not: an annotation file
must never make a reader (or ``prepare``) touch files outside the dataset.
"""
from __future__ import annotations

import posixpath
import re
from typing import Optional, Sequence, Set

from fsspec import AbstractFileSystem

from distlm.data.fs import to_uri
from distlm.data.listing import relative_files
from distlm.data.report import ReadReport

_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def unsafe_reason(name: str) -> Optional[str]:
    """Why ``name`` may not be joined to a dataset root, or None when it is safe."""
    if not name:
        return "empty name"
    if name.startswith(("/", "\\")) or _DRIVE.match(name) or "://" in name:
        return f"absolute path {name!r} escapes the dataset root"
    if ".." in re.split(r"[\\/]", name):
        return f"'..' in {name!r} escapes the dataset root"
    if "\x00" in name:
        return f"NUL byte in {name!r}"
    return None


def clean_relpath(name: str) -> str:
    """``name`` normalised (``./a//b`` -> ``a/b``); call ``unsafe_reason`` first."""
    return posixpath.normpath(name)


class FileSet:
    """The set of files under a root, listed once, for existence checks.

    ``FileSet(fs, root, report)`` lists ``root`` recursively (hidden files out);
    ``rel in files`` then costs nothing. ``what`` names the folder in errors.
    """

    def __init__(
        self,
        fs: AbstractFileSystem,
        root: str,
        report: ReadReport,
        what: str = "image folder",
        extensions: Optional[Sequence[str]] = None,
    ) -> None:
        try:
            self.files: Set[str] = set(relative_files(fs, root, report, extensions))
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{to_uri(fs, root)}: {what} not found (pass check_images=False to index "
                "the annotations without checking the images)"
            ) from None

    def __contains__(self, rel: object) -> bool:
        return rel in self.files
