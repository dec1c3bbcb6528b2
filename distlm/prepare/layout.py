"""The output folder (local or ``s3://``) and atomic writes into it.

::

    DST/part-00000.parquet        crops of slice 0 (rows with a face)
    DST/part-00001.parquet        ...
    DST/_manifest/part-00000.jsonl every input of slice 0 with its outcome
    DST/_prepare.json             input count, ids fingerprint, options (resume check)
    DST/_summary.json             counts over the whole run (written last)

Underscore names are ignored by ``pyarrow.dataset`` / ``ray.data.read_parquet``, so
``DST`` reads as the crops alone. A slice is finished when its manifest part exists:
the shard is written first, each file atomically (local: temporary file + rename;
S3: one PUT, which is all-or-nothing).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

from distlm.data.fs import Storage, atomic_local, is_local, join, resolve, to_uri

MANIFEST_DIR = "_manifest"
STATE_FILE = "_prepare.json"
SUMMARY_FILE = "_summary.json"
TMP_MARK = ".tmp-"  # in the hidden temporaries of distlm.data.fs.atomic_local


def shard_name(k: int) -> str:
    return f"part-{k:05d}.parquet"


def manifest_name(k: int) -> str:
    return f"{MANIFEST_DIR}/part-{k:05d}.jsonl"


class Output:
    """An output folder: atomic ``write``, ``read``, ``exists``, ``listdir``."""

    def __init__(self, root: str, storage: Storage = None) -> None:
        self.fs, self.root = resolve(root, storage)
        self.uri = to_uri(self.fs, self.root)
        self.local = is_local(self.fs)
        self.fs.makedirs(join(self.fs, self.root, MANIFEST_DIR), exist_ok=True)

    def path(self, name: str) -> str:
        return join(self.fs, self.root, name)

    def exists(self, name: str) -> bool:
        return bool(self.fs.exists(self.path(name)))

    def read(self, name: str) -> bytes:
        return self.fs.cat_file(self.path(name))

    def write(self, name: str, data: bytes) -> None:
        """Write ``name`` so that readers see either nothing or all of it."""
        final = self.path(name)
        if not self.local:
            self.fs.pipe_file(final, data)
            return
        with atomic_local(final) as tmp, open(tmp, "wb") as fh:  # hidden ``.<name>.tmp-...`` temporary
            fh.write(data)

    def listdir(self, sub: str = "") -> List[str]:
        """Base names under ``sub`` (empty list if missing)."""
        where = self.path(sub) if sub else self.root
        if not self.fs.exists(where):
            return []
        if not self.local:
            self.fs.invalidate_cache(where)
        return sorted(os.path.basename(p.rstrip("/")) for p in self.fs.ls(where, detail=False))

    def remove(self, name: str) -> None:
        if self.exists(name):
            self.fs.rm(self.path(name), recursive=True)

    def clean_temporaries(self) -> int:
        """Delete leftovers of killed local writes; returns how many."""
        if not self.local:
            return 0
        gone = 0
        for sub in ("", MANIFEST_DIR):
            for name in self.listdir(sub):
                if name.startswith(".") and TMP_MARK in name:
                    os.remove(os.path.join(self.path(sub) if sub else self.root, name))
                    gone += 1
        return gone

    def read_json(self, name: str) -> Optional[Dict[str, Any]]:
        return json.loads(self.read(name)) if self.exists(name) else None

    def write_json(self, name: str, value: Dict[str, Any]) -> None:
        self.write(name, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())
