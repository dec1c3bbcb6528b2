"""The output folder of the crop stage (local or ``s3://``) and atomic writes into it.

::

    DST/part-<digest>.parquet            crops of one block of inputs (rows with a face)
    DST/_manifest/part-<digest>.parquet  every input of that block: key, id, outcome, ...
    DST/_pending/part-00000.parquet      this run's inputs still to crop (removed when done)
    DST/_prepare.json                    layout version and crop settings (checked on reuse)
    DST/_summary.json                    counts over the source's inputs (written last)
    DST/_lease.json                      held while a crop stage works on DST

``<digest>`` is a hash of the block's input keys (:mod:`distlm.prepare.keys`), so a
block written twice (a retried task) lands on the same names. Crop actors write their
blocks themselves: the shard first, then its manifest part, which commits it; a shard
without its manifest part is a leftover of a killed run and is deleted by the next.
Underscore names are ignored by ``pyarrow.dataset`` / ``ray.data.read_parquet``, so
``DST`` reads as the crops alone. Each file is written atomically (local: temporary
file + rename; S3: one PUT, which is all-or-nothing).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

from distlm.data.fs import Storage, atomic_local, is_local, join, resolve, to_uri

MANIFEST_DIR = "_manifest"
PENDING_DIR = "_pending"
STATE_FILE = "_prepare.json"
SUMMARY_FILE = "_summary.json"
TMP_MARK = ".tmp-"  # in the hidden temporaries of distlm.data.fs.atomic_local


def shard_name(digest: str) -> str:
    return f"part-{digest}.parquet"


def manifest_name(digest: str) -> str:
    return f"{MANIFEST_DIR}/{shard_name(digest)}"


def pending_name(k: int) -> str:
    return f"{PENDING_DIR}/part-{k:05d}.parquet"


def is_part(name: str) -> bool:
    """A shard or manifest part's base name, ``part-*.parquet``."""
    return name.startswith("part-") and name.endswith(".parquet")


def digest_of(name: str) -> str:
    """``part-<digest>.parquet`` (any folder) -> ``<digest>``."""
    base = name.rsplit("/", 1)[-1]
    return base[len("part-"):-len(".parquet")]


class Output:
    """An output folder: atomic ``write``, ``read``, ``exists``, ``listdir``."""

    def __init__(self, root: str, storage: Storage = None, create: bool = True) -> None:
        self.fs, self.root = resolve(root, storage)
        self.uri = to_uri(self.fs, self.root)
        self.local = is_local(self.fs)
        if create:
            self.fs.makedirs(join(self.fs, self.root, MANIFEST_DIR), exist_ok=True)
            self.fs.makedirs(join(self.fs, self.root, PENDING_DIR), exist_ok=True)

    def path(self, name: str) -> str:
        return join(self.fs, self.root, name)

    def uri_of(self, name: str) -> str:
        return to_uri(self.fs, self.path(name))

    def exists(self, name: str) -> bool:
        return bool(self.fs.exists(self.path(name)))

    def read(self, name: str) -> bytes:
        return self.fs.cat_file(self.path(name))

    def read_table(self, name: str, columns: Optional[List[str]] = None) -> "pa.Table":
        """A Parquet file of the folder (``columns``: only those)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        return pq.read_table(pa.BufferReader(self.read(name)), columns=columns)

    def write(self, name: str, data: bytes) -> None:
        """Write ``name`` so that readers see either nothing or all of it."""
        final = self.path(name)
        if not self.local:
            self.fs.pipe_file(final, data)
            return
        with atomic_local(final) as tmp, open(tmp, "wb") as fh:  # hidden ``.<name>.tmp-...`` temporary
            fh.write(data)

    def create(self, name: str, data: bytes) -> bool:
        """Write ``name`` only if it does not exist (local: ``O_EXCL``; S3: a conditional
        PUT, ``If-None-Match: *``). Returns False, writing nothing, if it exists."""
        final = self.path(name)
        try:
            if not self.local:
                self.fs.pipe_file(final, data, mode="create")
                return True
            fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return True

    def listdir(self, sub: str = "") -> List[str]:
        """Base names under ``sub`` (empty list if missing)."""
        where = self.path(sub) if sub else self.root
        if not self.local:
            self.fs.invalidate_cache(where)
        try:
            return sorted(os.path.basename(p.rstrip("/")) for p in self.fs.ls(where, detail=False))
        except FileNotFoundError:  # missing (on S3: no object under the prefix)
            return []

    def remove(self, name: str) -> None:
        if self.exists(name):
            self.fs.rm(self.path(name), recursive=True)

    def clean_temporaries(self) -> int:
        """Delete leftovers of killed local writes; returns how many."""
        if not self.local:
            return 0
        gone = 0
        for sub in ("", MANIFEST_DIR, PENDING_DIR):
            for name in self.listdir(sub):
                if name.startswith(".") and TMP_MARK in name:
                    os.remove(os.path.join(self.path(sub) if sub else self.root, name))
                    gone += 1
        return gone

    def read_json(self, name: str) -> Optional[Dict[str, Any]]:
        return json.loads(self.read(name)) if self.exists(name) else None

    def write_json(self, name: str, value: Dict[str, Any]) -> None:
        self.write(name, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())
