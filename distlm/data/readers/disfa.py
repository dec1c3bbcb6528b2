"""DISFA: 12 AU intensities (0..5) per frame, one label file per subject and AU.

Layout under the dataset root::

    ActionUnit_Labels/SN001/SN001_au1.txt     lines "frame,intensity" (frame from 1)
    Frames/SN001/00001.jpg                    frames you extract (see below)

DISFA ships videos, not frames: extract them once, e.g.
``ffmpeg -i Videos_LeftCamera/LeftVideoSN001_comp.avi -start_number 1 -q:v 2
Frames/SN001/%05d.jpg``; another layout is set with ``frame_template`` (fields
``subject``, ``frame``). AU values are binarised as ``intensity >= threshold``
(default 2, the usual protocol) or kept as intensities with ``intensity=True``.
A value outside 0..5, or a frame absent from one AU file, is masked for that AU.
``test_subjects`` puts those subjects in the ``test`` split (default: none).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import pyarrow as pa
from fsspec import AbstractFileSystem

from distlm.data.fs import Storage, join, resolve, to_uri
from distlm.data.listing import relative_files
from distlm.data.readers.base import READERS
from distlm.data.readers.lines import iter_lines, parse_int, read_file_bytes
from distlm.data.readers.paths import FileSet
from distlm.data.readers.schema import IndexBuilder
from distlm.data.report import ReadReport

DISFA_AUS: Tuple[int, ...] = (1, 2, 4, 5, 6, 9, 12, 15, 17, 20, 25, 26)
LABELS_DIR = "ActionUnit_Labels"
FRAME_TEMPLATE = "Frames/{subject}/{frame:05d}.jpg"


def read_au_file(data: bytes, where: str, report: ReadReport) -> Dict[int, Optional[int]]:
    """``frame -> intensity`` (None when out of 0..5) of one ``SNxxx_auN.txt``."""
    out: Dict[int, Optional[int]] = {}
    for n, text in iter_lines(data, where, report):
        parts = text.replace("\t", ",").replace(" ", ",").split(",")
        parts = [p for p in parts if p]
        frame = parse_int(parts[0]) if len(parts) == 2 else None
        if frame is None or frame < 0:
            report.skip(f"{where}:{n}", "malformed line", f"expected 'frame,intensity', got {text!r}")
            continue
        if frame in out:
            report.skip(f"{where}:{n}", "duplicate", f"frame {frame} already read (first kept)")
            continue
        value = parse_int(parts[1])
        out[frame] = value if value is not None and 0 <= value <= 5 else None
    return out


def _subjects(fs: AbstractFileSystem, labels: str, report: ReadReport) -> List[str]:
    files = relative_files(fs, labels, report, extensions=(".txt",))
    return sorted({f.split("/", 1)[0] for f in files if "/" in f})


@READERS.register("disfa")
def read_disfa(
    path: str,
    *,
    threshold: float = 2,
    intensity: bool = False,
    frame_template: str = FRAME_TEMPLATE,
    test_subjects: Sequence[str] = (),
    check_images: bool = True,
    storage: Storage = None,
    strict: bool = False,
) -> Tuple[pa.Table, ReadReport]:
    """Index DISFA under the dataset root ``path``: one row per labelled frame."""
    fs, root = resolve(path, storage)
    report = ReadReport(f"disfa {path}", strict=strict)
    labels = join(fs, root, LABELS_DIR)
    frames_root = frame_template.split("{", 1)[0].rstrip("/")
    prefix = frames_root + "/" if frames_root else ""
    images = FileSet(fs, join(fs, root, frames_root), report, "frames folder") if check_images else None
    out = IndexBuilder(report, source="disfa", au_ids=DISFA_AUS)
    for subject in _subjects(fs, labels, report):
        per_au: List[Dict[int, Optional[int]]] = []
        for au in DISFA_AUS:
            rel = f"{LABELS_DIR}/{subject}/{subject}_au{au}.txt"
            try:
                data = read_file_bytes(fs, join(fs, root, rel), "DISFA AU file")
            except FileNotFoundError:
                report.skip(rel, "missing AU file", f"AU{au} masked for {subject}")
                per_au.append({})
                continue
            per_au.append(read_au_file(data, rel, report))
        split = "test" if subject in test_subjects else "train"
        for frame in sorted(set().union(*per_au)):
            rel = frame_template.format(subject=subject, frame=frame)
            where = f"{LABELS_DIR}/{subject}: frame {frame}"
            if images is not None and rel[len(prefix):] not in images:
                report.skip(where, "missing image", rel)
                continue
            raw = [d.get(frame) for d in per_au]
            mask = [v is not None for v in raw]
            report.count("masked au values", mask.count(False))
            values = [
                0.0 if v is None else (float(v) if intensity else float(v >= threshold))
                for v in raw
            ]
            out.add(rel, to_uri(fs, join(fs, root, rel)), where, au=values, au_mask=mask, split=split)
    return out.table(), report
