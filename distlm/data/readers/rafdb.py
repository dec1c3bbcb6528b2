"""RAF-DB (basic): ``EmoLabel/list_patition_label.txt`` (sic) + ``Image/<variant>/``.

Each line is ``name label`` separated by a space or a tab, e.g. ``train_00001.jpg 5``.
Labels 1..7 map to class indices 0..6 (names in ``RAFDB_CLASSES``); the split comes
from the ``train_`` / ``test_`` name prefix. ``variant="original"`` indexes
``Image/original/<name>``, ``variant="aligned"`` ``Image/aligned/<stem>_aligned.jpg``.
``id`` is the image path relative to the dataset root.
"""
from __future__ import annotations

import posixpath
from typing import Callable, Dict, Tuple

import pyarrow as pa

from distlm.data.fs import Storage, join, resolve, to_uri
from distlm.data.readers.base import READERS
from distlm.data.readers.lines import iter_lines, parse_int, read_file_bytes
from distlm.data.readers.paths import FileSet, clean_relpath, unsafe_reason
from distlm.data.readers.schema import IndexBuilder
from distlm.data.report import ReadReport

LABEL_FILE = "EmoLabel/list_patition_label.txt"
RAFDB_CLASSES: Tuple[str, ...] = (
    "Surprise", "Fear", "Disgust", "Happiness", "Sadness", "Anger", "Neutral",
)
_SPLIT_PREFIX = {"train_": "train", "test_": "test"}
VARIANTS: Dict[str, Callable[[str], str]] = {
    "original": lambda name: f"Image/original/{name}",
    "aligned": lambda name: f"Image/aligned/{posixpath.splitext(name)[0]}_aligned.jpg",
}


def _split_of(name: str) -> str | None:
    base = posixpath.basename(name)
    return next((s for p, s in _SPLIT_PREFIX.items() if base.startswith(p)), None)


@READERS.register("rafdb")
def read_rafdb(
    path: str,
    *,
    variant: str = "original",
    check_images: bool = True,
    storage: Storage = None,
    strict: bool = False,
) -> Tuple[pa.Table, ReadReport]:
    """Index RAF-DB basic under the dataset root ``path``.

    Returns the shared index (label 0..6, ``au`` null) and the read report.
    """
    if variant not in VARIANTS:
        raise ValueError(f"rafdb: unknown variant {variant!r}; known: {sorted(VARIANTS)}")
    fs, root = resolve(path, storage)
    report = ReadReport(f"rafdb {path}", strict=strict)
    label_path = join(fs, root, LABEL_FILE)
    data = read_file_bytes(fs, label_path, "RAF-DB label file")
    images = FileSet(fs, join(fs, root, "Image", variant), report) if check_images else None
    out = IndexBuilder(report, source="rafdb", classes=RAFDB_CLASSES)
    for n, text in iter_lines(data, LABEL_FILE, report):
        where = f"{LABEL_FILE}:{n}"
        fields = text.split()
        if len(fields) != 2:
            report.skip(where, "malformed line", f"expected 'name label', got {text!r}")
            continue
        name, raw_label = fields
        bad = unsafe_reason(name)
        if bad:
            report.skip(where, "unsafe path", bad)
            continue
        name = clean_relpath(name)
        code = parse_int(raw_label)
        if code is None or not 1 <= code <= len(RAFDB_CLASSES):
            report.skip(where, "unknown label", f"{raw_label!r} (expected 1..7)")
            continue
        split = _split_of(name)
        if split is None:
            report.skip(where, "unknown split", f"{name!r} starts with neither train_ nor test_")
            continue
        rel = VARIANTS[variant](name)
        if rel in out:
            report.skip(where, "duplicate", f"{name!r} already read (first kept)")
            continue
        if images is not None and rel.split("/", 2)[2] not in images:
            report.skip(where, "missing image", rel)
            continue
        out.add(rel, to_uri(fs, join(fs, root, rel)), where, label=code - 1, split=split)
    return out.table(), report
