"""Deterministic recursive listing of image trees, local or on S3.

``list_images`` is what ``prepare`` and ``faces`` use to enumerate a pool of images
(MegaFace or any folder tree); ``relative_files`` is the building block readers use
to check that the images an annotation file names exist, with one listing instead of
one request per image.

Rules: recursive; sorted by the path relative to the root (code-point order, so the
same on every machine); hidden files and folders (name starting with ``.``) skipped;
image extensions matched case-insensitively; non-ASCII names kept as they are; a
directory that cannot be read becomes a ``ReadReport`` skip, never a crash and never
a silent loss. Directory symlinks are followed once (loops are cut).

Example::

    report = ReadReport("megaface")
    for uri in list_images("s3://pool/megaface", report=report): ...
"""
from __future__ import annotations

import logging
import os
from typing import Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from fsspec import AbstractFileSystem

from distlm.data.fs import Storage, is_local, join, resolve, to_uri
from distlm.data.report import ReadReport

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS: Tuple[str, ...] = (
    ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
)


def _hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/"))


def _walk_local(root: str, report: ReadReport) -> List[str]:
    """Relative paths of all files under a local ``root`` (unsorted)."""
    out: List[str] = []
    seen: Set[Tuple[int, int]] = set()
    stack: List[Tuple[str, str]] = [(root, "")]
    while stack:
        directory, rel_dir = stack.pop()
        try:
            st = os.stat(directory)
            if (st.st_dev, st.st_ino) in seen:
                continue  # a symlink loop or a second link to a visited folder
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError as err:
            report.skip(directory, "unreadable directory", err.strerror or str(err))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = f"{rel_dir}{entry.name}"
            try:
                is_dir = entry.is_dir()  # follows symlinks
            except OSError as err:
                report.skip(entry.path, "unreadable directory", err.strerror or str(err))
                continue
            if is_dir:
                stack.append((entry.path, rel + "/"))
            elif entry.is_file():
                out.append(rel)
            elif entry.is_symlink():
                report.skip(entry.path, "broken link", f"target {os.readlink(entry.path)!r} missing")
    return out


def _walk_object_store(fs: AbstractFileSystem, root: str, report: ReadReport) -> List[str]:
    """Relative keys of all objects under ``root`` in one paginated listing."""
    fs.invalidate_cache(root)
    try:
        keys = fs.find(root, withdirs=False, detail=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{to_uri(fs, root)}: no such bucket or prefix") from None
    except OSError as err:  # PermissionError included
        report.skip(to_uri(fs, root), "unreadable directory", str(err))
        return []
    prefix = root.rstrip("/") + "/"
    return [k[len(prefix):] for k in keys if k.startswith(prefix) and not k.endswith("/")]


def relative_files(
    fs: AbstractFileSystem,
    root: str,
    report: ReadReport,
    extensions: Optional[Sequence[str]] = None,
) -> List[str]:
    """Sorted paths relative to ``root`` of the non-hidden files under it.

    Args:
        fs, root: as returned by ``distlm.data.fs.resolve``.
        report: receives one skip per unreadable directory.
        extensions: keep only these suffixes (case-insensitive); None keeps all.

    Raises:
        FileNotFoundError: ``root`` does not exist (or holds no object on S3).
        NotADirectoryError: ``root`` is a file.
    """
    if is_local(fs):
        if not os.path.exists(root):
            raise FileNotFoundError(f"{root}: no such directory")
        if not os.path.isdir(root):
            raise NotADirectoryError(f"{root}: is a file, expected a directory")
        rels = _walk_local(root, report)
    else:
        before = len(report.skips)
        rels = _walk_object_store(fs, root, report)
        if not rels and len(report.skips) == before and not fs.exists(root):
            raise FileNotFoundError(f"{to_uri(fs, root)}: no such prefix (no objects under it)")
    rels = [r for r in rels if not _hidden(r)]
    if extensions is not None:
        exts = tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)
        rels = [r for r in rels if r.lower().endswith(exts)]
    return sorted(rels)


def list_images(
    root: str,
    storage: Storage = None,
    extensions: Sequence[str] = IMAGE_EXTENSIONS,
    report: Optional[ReadReport] = None,
) -> Iterator[str]:
    """Yield the image files under ``root``, recursively, sorted, as full paths.

    Local roots yield absolute paths; S3 roots yield ``s3://bucket/key`` URIs.
    Unreadable directories go to ``report`` (a ``ReadReport``); without one they are
    logged as warnings. With ``report.strict`` the first one raises ``ReadError``.

    Example::

        paths = list(list_images("/data/megaface"))
    """
    fs, base = resolve(root, storage)
    own = report is None
    rep = report if report is not None else ReadReport(f"list_images {root}")
    rels = relative_files(fs, base, rep, extensions)
    if own:
        for where, reason in rep.skips:
            log.warning("%s: %s", where, reason)
    for rel in rels:
        yield to_uri(fs, join(fs, base, rel))


def read_files(
    paths: Iterable[str],
    storage: Storage = None,
    report: Optional[ReadReport] = None,
) -> Iterator[Tuple[str, bytes]]:
    """Yield ``(path, bytes)`` for each path; a vanished or unreadable file is a skip.

    This is the read half of list-then-read: a file deleted (or an S3 key removed)
    after listing is recorded in ``report`` as ``missing file`` and the others go on.
    """
    rep = report if report is not None else ReadReport("read_files")
    for path in paths:
        fs, p = resolve(path, storage)  # fsspec caches instances: cheap per path
        try:
            with fs.open(p, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            rep.skip(path, "missing file", "gone since listing")
            continue
        except OSError as err:
            rep.skip(path, "unreadable file", str(err))
            continue
        yield path, data
    if report is None:
        for where, reason in rep.skips:
            log.warning("%s: %s", where, reason)

