"""A generic CSV: a path column plus a ``label`` column and/or AU columns.

* path column: ``path_column`` or the first of ``path, image, image_path, file,
  filename, input`` present (``input`` is py-feat's name), relative to
  ``image_root`` (default: the CSV's folder).
* ``label``: an int class index or a class name. Names map to ``classes`` (given, or
  the sorted distinct names); an empty cell makes the row ``unlabelled`` (label -1).
* AU columns in the OpenFace / py-feat scheme: ``AU01`` ... ``AU45``; failing those
  OpenFace's presence columns ``AU01_c``, then its intensities ``AU01_r``. Values are
  kept as floats; empty / NaN / 999 are masked.
* an optional ``split`` column (``train`` / ``test``), else the ``split`` option.
"""
from __future__ import annotations

import posixpath
import re
from typing import Dict, List, Optional, Sequence, Tuple

import pyarrow as pa

from distlm.data.fs import Storage, join, resolve, to_uri
from distlm.data.readers.au_values import real_au
from distlm.data.readers.base import READERS
from distlm.data.readers.lines import iter_lines, parse_int, read_file_bytes, sniff_delimiter, split_fields
from distlm.data.readers.paths import FileSet, clean_relpath, unsafe_reason
from distlm.data.readers.schema import LABELLED, SPLITS, UNLABELLED, IndexBuilder
from distlm.data.report import ReadReport

PATH_COLUMNS = ("path", "image", "image_path", "file", "filename", "input")
AU_PATTERNS = (r"^AU(\d\d)$", r"^AU(\d\d)_c$", r"^AU(\d\d)_r$")


def au_columns(header: Sequence[str]) -> Tuple[List[int], List[int]]:
    """(AU ids, column indices) of the first AU naming scheme present, by AU id."""
    for pattern in AU_PATTERNS:
        found = sorted((int(m.group(1)), i) for i, h in enumerate(header) if (m := re.match(pattern, h)))
        if found:
            return [a for a, _ in found], [i for _, i in found]
    return [], []


def class_list(labels: Sequence[str], classes: Optional[Sequence[str]]) -> Tuple[List[str], bool]:
    """(class names, labels-are-names): given, or inferred from the label cells."""
    cells = [c for c in labels if c]
    by_index = all(parse_int(c) is not None for c in cells)
    if classes is not None:
        return list(classes), not by_index
    if by_index:
        top = max((parse_int(c) or 0 for c in cells), default=-1)
        return [str(i) for i in range(top + 1)], False
    return sorted(set(cells)), True


@READERS.register("csv")
def read_csv(
    path: str,
    *,
    path_column: Optional[str] = None,
    label_column: str = "label",
    classes: Optional[Sequence[str]] = None,
    image_root: Optional[str] = None,
    split: str = "train",
    check_images: bool = True,
    storage: Storage = None,
    strict: bool = False,
) -> Tuple[pa.Table, ReadReport]:
    """Index a CSV/TSV with a header row (see the module doc for the columns)."""
    fs, file = resolve(path, storage)
    report = ReadReport(f"csv {path}", strict=strict)
    fname = posixpath.basename(file)
    where0 = to_uri(fs, file)
    rows = list(iter_lines(read_file_bytes(fs, file, "CSV file"), fname, report))
    if not rows:
        raise ValueError(f"{where0}: empty CSV (a header row is required)")
    delimiter = sniff_delimiter(rows[0][1])
    header = split_fields(rows[0][1], delimiter)
    pcol = path_column or next((c for c in PATH_COLUMNS if c in header), None)
    if pcol not in header:
        raise ValueError(f"{where0}: no path column (looked for {path_column or PATH_COLUMNS}); header {header}")
    ids, acols = au_columns(header)
    lcol = header.index(label_column) if label_column in header else None
    if lcol is None and not ids:
        raise ValueError(f"{where0}: neither a {label_column!r} column nor AU columns (AU01..AU45)")
    scol = header.index("split") if "split" in header else None
    body = [(n, split_fields(t, delimiter)) for n, t in rows[1:]]
    wide = [(n, c) for n, c in body if len(c) == len(header)]
    names, by_name = class_list([c[lcol] for _, c in wide] if lcol is not None else [], classes)
    index: Dict[str, int] = {name: i for i, name in enumerate(names)}
    rfs, rroot = resolve(image_root, storage) if image_root else (fs, posixpath.dirname(file))
    images = FileSet(rfs, rroot, report) if check_images else None
    out = IndexBuilder(report, source="csv", classes=names if lcol is not None else (), au_ids=ids)
    for n, cells in body:
        where = f"{fname}:{n}"
        if len(cells) != len(header):
            report.skip(where, "malformed line", f"expected {len(header)} fields, got {len(cells)}")
            continue
        name = cells[header.index(pcol)]
        bad = unsafe_reason(name)
        if bad:
            report.skip(where, "unsafe path", bad)
            continue
        label, domain = -1, LABELLED
        if lcol is not None:
            cell = cells[lcol]
            value = index.get(cell) if by_name else parse_int(cell)
            if not cell:
                domain = UNLABELLED if not ids else LABELLED
            elif value is None or not 0 <= value < len(names):
                report.skip(where, "unknown label", f"{cell!r} (classes: {names})")
                continue
            else:
                label = value
        row_split = cells[scol] if scol is not None else split
        if row_split not in SPLITS:
            report.skip(where, "unknown split", f"{row_split!r} (expected {SPLITS})")
            continue
        rel = clean_relpath(name)
        if images is not None and rel not in images:
            report.skip(where, "missing image", f"{rel!r} under {to_uri(rfs, rroot)}")
            continue
        au, mask = real_au([cells[i] for i in acols], report) if ids else (None, None)
        out.add(rel, to_uri(rfs, join(rfs, rroot, rel)), where, label=label, au=au,
                au_mask=mask, domain=domain, split=row_split)
    return out.table(), report
