"""EmotioNet AU annotations: a CSV or TSV table, one image per row.

First column: the image, as a path relative to ``image_root`` or as a URL (the
released annotation files list URLs; a URL maps to ``image_root/<basename>``,
which is where EmotioNet download scripts store images). Then one column per AU:
by default AUs 1, 2, 4, 5, 6, 9, 12, 17, 20, 25, 26, 43 in that order, or the AUs
named by a header row (``AU1``, ``AU01``, ``1``...). Cells: 1 present, 0 absent,
999 / NaN / anything else unknown -> masked. ``label`` is -1 (AU dataset).
"""
from __future__ import annotations

import posixpath
from typing import List, Optional, Sequence, Tuple
from urllib.parse import unquote, urlparse

import pyarrow as pa

from distlm.data.fs import Storage, join, resolve, to_uri
from distlm.data.readers.au_values import au_number, binary_au
from distlm.data.readers.base import READERS
from distlm.data.readers.lines import iter_lines, read_file_bytes, sniff_delimiter, split_fields
from distlm.data.readers.paths import FileSet, clean_relpath, unsafe_reason
from distlm.data.readers.schema import IndexBuilder
from distlm.data.report import ReadReport

EMOTIONET_AUS: Tuple[int, ...] = (1, 2, 4, 5, 6, 9, 12, 17, 20, 25, 26, 43)


def image_name(first: str) -> Tuple[Optional[str], Optional[str]]:
    """``(relative image path, None)`` or ``(None, why it is refused)``."""
    if first.lower().startswith(("http://", "https://")):
        base = posixpath.basename(unquote(urlparse(first).path))
        return (base, None) if base and base not in (".", "..") else (None, f"URL without a file name: {first!r}")
    bad = unsafe_reason(first)
    return (None, bad) if bad else (clean_relpath(first), None)


def _header_columns(cells: List[str], au_ids: Optional[Sequence[int]], where: str) -> Tuple[List[int], List[int]]:
    """(AU ids kept, their column indices) from a header row."""
    numbers = [au_number(c) for c in cells[1:]]
    if any(n is None for n in numbers):
        bad = [c for c, n in zip(cells[1:], numbers) if n is None]
        raise ValueError(f"{where}: header cells {bad} do not name AUs")
    wanted = list(au_ids) if au_ids is not None else [n for n in numbers if n is not None]
    missing = [a for a in wanted if a not in numbers]
    if missing:
        raise ValueError(f"{where}: header lacks AU(s) {missing}; it has {numbers}")
    return wanted, [1 + numbers.index(a) for a in wanted]


@READERS.register("emotionet")
def read_emotionet(
    path: str,
    *,
    image_root: Optional[str] = None,
    au_ids: Optional[Sequence[int]] = None,
    split: str = "train",
    check_images: bool = True,
    storage: Storage = None,
    strict: bool = False,
) -> Tuple[pa.Table, ReadReport]:
    """Index an EmotioNet annotation table ``path`` (CSV/TSV, header optional).

    ``image_root`` defaults to the table's folder. Returns label -1, ``au`` and
    ``au_mask`` in the order of ``au_ids`` (recorded in the table metadata).
    """
    fs, file = resolve(path, storage)
    report = ReadReport(f"emotionet {path}", strict=strict)
    fname = posixpath.basename(file)
    data = read_file_bytes(fs, file, "EmotioNet annotation file")
    rfs, rroot = resolve(image_root, storage) if image_root else (fs, posixpath.dirname(file))
    images = FileSet(rfs, rroot, report) if check_images else None
    lines = iter_lines(data, fname, report)
    rows = list(lines)
    delimiter = sniff_delimiter(rows[0][1]) if rows else ","
    ids: List[int] = list(au_ids) if au_ids is not None else list(EMOTIONET_AUS)
    cols: List[int] = list(range(1, 1 + len(ids)))
    width = 1 + len(ids)
    if rows:
        first = split_fields(rows[0][1], delimiter)
        if _is_header(first):
            ids, cols = _header_columns(first, au_ids, f"{fname}:{rows[0][0]}")
            width = len(first)
            rows = rows[1:]
    out = IndexBuilder(report, source="emotionet", au_ids=ids)
    for n, text in rows:
        where = f"{fname}:{n}"
        cells = split_fields(text, delimiter)
        if len(cells) != width:
            report.skip(where, "malformed line", f"expected {width} fields, got {len(cells)}")
            continue
        rel, bad = image_name(cells[0])
        if bad:
            report.skip(where, "unsafe path", bad)
            continue
        if images is not None and rel not in images:
            report.skip(where, "missing image", f"{rel!r} under {to_uri(rfs, rroot)}")
            continue
        values, mask = binary_au([cells[c] for c in cols], report)
        out.add(rel, to_uri(rfs, join(rfs, rroot, rel)), where, au=values, au_mask=mask, split=split)
    return out.table(), report


_FIRST_HEADER_CELLS = {"image", "images", "url", "urls", "path", "file", "filename", "image_path", "name"}


def _is_header(cells: Sequence[str]) -> bool:
    """A header names its first column or spells AUs as ``AU<n>``."""
    return cells[0].strip().lower() in _FIRST_HEADER_CELLS or any(
        c.strip().lower().startswith("au") for c in cells[1:]
    )
