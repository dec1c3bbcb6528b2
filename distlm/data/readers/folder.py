"""A folder per class: ``root/<class>/**/*.jpg``; classes are the sorted folder names.

Images directly under ``root`` belong to no class: they are counted
(``not in a class folder``), not indexed. ``classes`` fixes the class list (and its
order); images in other folders are then ``unknown label`` skips.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import pyarrow as pa

from distlm.data.fs import Storage, join, resolve, to_uri
from distlm.data.listing import IMAGE_EXTENSIONS, relative_files
from distlm.data.readers.base import READERS
from distlm.data.readers.schema import IndexBuilder
from distlm.data.report import ReadReport


@READERS.register("folder")
def read_folder(
    path: str,
    *,
    classes: Optional[Sequence[str]] = None,
    split: str = "train",
    extensions: Sequence[str] = IMAGE_EXTENSIONS,
    storage: Storage = None,
    strict: bool = False,
) -> Tuple[pa.Table, ReadReport]:
    """Index a class-per-folder tree; label = index of the folder in ``classes``."""
    fs, root = resolve(path, storage)
    report = ReadReport(f"folder {path}", strict=strict)
    rels = relative_files(fs, root, report, extensions)
    in_folder = [r for r in rels if "/" in r]
    report.count("not in a class folder", len(rels) - len(in_folder))
    names = list(classes) if classes is not None else sorted({r.split("/", 1)[0] for r in in_folder})
    index = {name: i for i, name in enumerate(names)}
    out = IndexBuilder(report, source="folder", classes=names)
    for rel in in_folder:
        cls = rel.split("/", 1)[0]
        if cls not in index:
            report.skip(rel, "unknown label", f"folder {cls!r} not in classes")
            continue
        out.add(rel, to_uri(fs, join(fs, root, rel)), rel, label=index[cls], split=split)
    return out.table(), report
