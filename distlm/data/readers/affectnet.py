"""AffectNet: ``training.csv`` / ``validation.csv`` of the manually annotated set.

Columns: ``subDirectory_filePath, face_x, face_y, face_width, face_height,
facial_landmarks, expression, valence, arousal`` (a header row; without one the
columns are taken in this order). Expression codes 0..7 are classes
(``AFFECTNET_CLASSES``); 8 None, 9 Uncertain, 10 No-Face are not classes: those rows
are dropped and counted by reason (``dropped None (8)``...), not reported as bad.
Images live under ``image_root`` (default: ``Manually_Annotated_Images`` beside
the CSV's folder, else beside the CSV, else the CSV's folder). The split is
``test`` for a file whose name contains ``valid`` or ``test``, else ``train``.
"""
from __future__ import annotations

import posixpath
from typing import Dict, Optional, Tuple

import pyarrow as pa
from fsspec import AbstractFileSystem

from distlm.data.fs import Storage, join, resolve, to_uri
from distlm.data.readers.base import READERS
from distlm.data.readers.lines import iter_lines, parse_int, read_file_bytes, split_fields
from distlm.data.readers.paths import FileSet, clean_relpath, unsafe_reason
from distlm.data.readers.schema import IndexBuilder
from distlm.data.report import ReadReport

AFFECTNET_CLASSES: Tuple[str, ...] = (
    "Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt",
)
NOT_CLASSES: Dict[int, str] = {8: "None", 9: "Uncertain", 10: "No-Face"}
COLUMNS = (
    "subDirectory_filePath", "face_x", "face_y", "face_width", "face_height",
    "facial_landmarks", "expression", "valence", "arousal",
)
IMAGES_DIR = "Manually_Annotated_Images"


def default_image_root(fs: AbstractFileSystem, csv_path: str) -> str:
    """First existing of ``../Manually_Annotated_Images``, ``./Manually_...``, ``.``."""
    here = posixpath.dirname(csv_path)
    for cand in (join(fs, posixpath.dirname(here), IMAGES_DIR), join(fs, here, IMAGES_DIR)):
        if fs.exists(cand):
            return cand
    return here


def split_from_name(name: str) -> str:
    """``test`` for validation/test files, else ``train``."""
    low = name.lower()
    return "test" if "valid" in low or "test" in low else "train"


@READERS.register("affectnet")
def read_affectnet(
    path: str,
    *,
    image_root: Optional[str] = None,
    split: Optional[str] = None,
    check_images: bool = True,
    storage: Storage = None,
    strict: bool = False,
) -> Tuple[pa.Table, ReadReport]:
    """Index an AffectNet CSV ``path``; label = expression code 0..7."""
    fs, file = resolve(path, storage)
    report = ReadReport(f"affectnet {path}", strict=strict)
    fname = posixpath.basename(file)
    data = read_file_bytes(fs, file, "AffectNet CSV")
    rfs, rroot = resolve(image_root, storage) if image_root else (fs, default_image_root(fs, file))
    images = FileSet(rfs, rroot, report) if check_images else None
    split = split or split_from_name(fname)
    rows = list(iter_lines(data, fname, report))
    header = list(COLUMNS)
    if rows and split_fields(rows[0][1], ",")[0] == COLUMNS[0]:
        header = split_fields(rows[0][1], ",")
        rows = rows[1:]
        missing = [c for c in (COLUMNS[0], "expression") if c not in header]
        if missing:
            raise ValueError(f"{to_uri(fs, file)}: header lacks column(s) {missing}")
    i_path, i_expr = header.index(COLUMNS[0]), header.index("expression")
    out = IndexBuilder(report, source="affectnet", classes=AFFECTNET_CLASSES)
    for n, text in rows:
        where = f"{fname}:{n}"
        cells = split_fields(text, ",")
        if len(cells) != len(header):
            report.skip(where, "malformed line", f"expected {len(header)} fields, got {len(cells)}")
            continue
        name, code = cells[i_path], parse_int(cells[i_expr])
        bad = unsafe_reason(name)
        if bad:
            report.skip(where, "unsafe path", bad)
            continue
        if code in NOT_CLASSES:
            report.count(f"dropped {NOT_CLASSES[code]} ({code})")
            continue
        if code is None or not 0 <= code < len(AFFECTNET_CLASSES):
            report.skip(where, "unknown label", f"expression {cells[i_expr]!r} (expected 0..10)")
            continue
        rel = clean_relpath(name)
        if images is not None and rel not in images:
            report.skip(where, "missing image", f"{rel!r} under {to_uri(rfs, rroot)}")
            continue
        out.add(rel, to_uri(rfs, join(rfs, rroot, rel)), where, label=code, split=split)
    return out.table(), report
