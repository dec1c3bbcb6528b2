"""An unlabelled folder tree (MegaFace or any pool): every image, label -1."""
from __future__ import annotations

from typing import Sequence, Tuple

import pyarrow as pa

from distlm.data.fs import Storage, join, resolve, to_uri
from distlm.data.listing import IMAGE_EXTENSIONS, relative_files
from distlm.data.readers.base import READERS
from distlm.data.readers.schema import UNLABELLED, IndexBuilder
from distlm.data.report import ReadReport


@READERS.register("images")
def read_images(
    path: str,
    *,
    split: str = "train",
    extensions: Sequence[str] = IMAGE_EXTENSIONS,
    storage: Storage = None,
    strict: bool = False,
) -> Tuple[pa.Table, ReadReport]:
    """Index every image under ``path`` as ``domain=unlabelled``, ``label=-1``."""
    fs, root = resolve(path, storage)
    report = ReadReport(f"images {path}", strict=strict)
    out = IndexBuilder(report, source="images")
    for rel in relative_files(fs, root, report, extensions):
        out.add(rel, to_uri(fs, join(fs, root, rel)), rel, domain=UNLABELLED, split=split)
    return out.table(), report
