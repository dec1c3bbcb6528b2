"""BP4D-Spontaneous: 12 AUs per frame, one CSV per sequence, 3-fold subject split.

Layout under the dataset root::

    AUCoding/F001_T1.csv               header: frame, then AU numbers; one row per frame
    Sequences/F001/T1/0001.jpg         frames (``frame_template``, fields subject/task/frame)

Values 1 present, 0 absent; 9 (unknown) or anything else is masked. ``fold`` 1..3
selects the standard subject-independent protocol shipped in ``bp4d_folds.yaml``
(source and numbering documented there): the test part's subjects get
``split=test``, the others ``train``; ``fold=None`` puts every subject in train.
"""
from __future__ import annotations

import posixpath
from functools import lru_cache
from importlib import resources
from typing import Dict, List, Optional, Tuple

import pyarrow as pa
import yaml

from distlm.data.fs import Storage, join, resolve, to_uri
from distlm.data.listing import relative_files
from distlm.data.readers.au_values import au_number, binary_au
from distlm.data.readers.base import READERS
from distlm.data.readers.lines import iter_lines, parse_int, read_file_bytes, sniff_delimiter, split_fields
from distlm.data.readers.paths import FileSet
from distlm.data.readers.schema import IndexBuilder
from distlm.data.report import ReadReport

BP4D_AUS: Tuple[int, ...] = (1, 2, 4, 6, 7, 10, 12, 14, 15, 17, 23, 24)
CODING_DIR = "AUCoding"
FRAME_TEMPLATE = "Sequences/{subject}/{task}/{frame:04d}.jpg"


@lru_cache(maxsize=1)
def bp4d_folds() -> Dict[int, Tuple[str, ...]]:
    """Fold number (1..3) -> its test subjects, from ``bp4d_folds.yaml``."""
    text = resources.files("distlm.data.readers").joinpath("bp4d_folds.yaml").read_text()
    spec = yaml.safe_load(text)
    return {int(k): tuple(spec["parts"][v]) for k, v in spec["test_part"].items()}


def bp4d_subjects() -> Tuple[str, ...]:
    """All 41 subjects of the fold protocol, sorted."""
    return tuple(sorted({s for subs in bp4d_folds().values() for s in subs}))


def _read_sequence(
    data: bytes, where: str, report: ReadReport
) -> Optional[List[Tuple[int, int, List[str]]]]:
    """``[(line, frame, AU cells in BP4D_AUS order)]``, or None for an unusable file."""
    rows = list(iter_lines(data, where, report))
    if not rows:
        report.skip(where, "empty file")
        return None
    delimiter = sniff_delimiter(rows[0][1])
    header = split_fields(rows[0][1], delimiter)
    numbers = [au_number(c) for c in header[1:]]
    missing = [a for a in BP4D_AUS if a not in numbers]
    if missing:
        report.skip(where, "malformed header", f"no column for AU(s) {missing}")
        return None
    cols = [1 + numbers.index(a) for a in BP4D_AUS]
    out = []
    for n, text in rows[1:]:
        cells = split_fields(text, delimiter)
        frame = parse_int(cells[0]) if cells else None
        if len(cells) != len(header) or frame is None:
            report.skip(f"{where}:{n}", "malformed line", f"expected {len(header)} fields and a frame number")
            continue
        out.append((n, frame, [cells[c] for c in cols]))
    return out


@READERS.register("bp4d")
def read_bp4d(
    path: str,
    *,
    fold: Optional[int] = None,
    frame_template: str = FRAME_TEMPLATE,
    check_images: bool = True,
    storage: Storage = None,
    strict: bool = False,
) -> Tuple[pa.Table, ReadReport]:
    """Index BP4D under the dataset root ``path``: one row per coded frame."""
    folds = bp4d_folds()
    if fold is not None and fold not in folds:
        raise ValueError(f"bp4d: fold must be one of {sorted(folds)} or None, got {fold!r}")
    test = set(folds[fold]) if fold is not None else set()
    known = set(bp4d_subjects())
    fs, root = resolve(path, storage)
    report = ReadReport(f"bp4d {path}", strict=strict)
    frames_root = frame_template.split("{", 1)[0].rstrip("/")
    prefix = frames_root + "/" if frames_root else ""
    images = FileSet(fs, join(fs, root, frames_root), report, "frames folder") if check_images else None
    out = IndexBuilder(report, source="bp4d", au_ids=BP4D_AUS)
    for name in relative_files(fs, join(fs, root, CODING_DIR), report, extensions=(".csv",)):
        where = f"{CODING_DIR}/{name}"
        stem = posixpath.splitext(posixpath.basename(name))[0]
        if stem.count("_") != 1:
            report.skip(where, "malformed file name", "expected <subject>_<task>.csv")
            continue
        subject, task = stem.split("_")
        if fold is not None and subject not in known:
            report.skip(where, "unknown subject", f"{subject!r} is in no fold of bp4d_folds.yaml")
            continue
        parsed = _read_sequence(read_file_bytes(fs, join(fs, root, where), "BP4D AU file"), where, report)
        if parsed is None:
            continue
        split = "test" if subject in test else "train"
        for n, frame, cells in parsed:
            rel = frame_template.format(subject=subject, task=task, frame=frame)
            if images is not None and rel[len(prefix):] not in images:
                report.skip(f"{where}:{n}", "missing image", rel)
                continue
            values, mask = binary_au(cells, report)
            out.add(rel, to_uri(fs, join(fs, root, rel)), f"{where}:{n}", au=values, au_mask=mask, split=split)
    return out.table(), report
