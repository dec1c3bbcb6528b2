"""Keep the cache equal to the source: drop leftovers and inputs that left it.

Runs where the plan runs (a Ray task), never on the driver's per-image path.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Set

import pyarrow as pa
import pyarrow.compute as pc

from distlm.prepare.keys import KEY_COLUMN
from distlm.prepare.layout import MANIFEST_DIR, Output, digest_of, is_part, manifest_name, shard_name

log = logging.getLogger("distlm.prepare")
READ_AHEAD = 16


def read_manifests(out: Output, digests: List[str], columns: List[str]) -> List[pa.Table]:
    """``columns`` of the manifest parts ``digests``, in that order, ``READ_AHEAD`` requests
    in flight (thousands of small objects: one at a time would wait on each)."""
    with ThreadPoolExecutor(READ_AHEAD) as pool:
        return list(pool.map(lambda d: out.read_table(manifest_name(d), columns), digests))


def committed(out: Output) -> Set[str]:
    """Digests of the committed blocks (those with a manifest part)."""
    return {digest_of(n) for n in out.listdir(MANIFEST_DIR) if is_part(n)}


def drop_orphans(out: Output) -> int:
    """Delete shards without a manifest part (a killed run's last writes); how many."""
    done = committed(out)
    gone = 0
    for name in out.listdir():
        if is_part(name) and digest_of(name) not in done:
            out.remove(name)
            gone += 1
    return gone


def manifest_keys(out: Output) -> pa.Table:
    """``key`` and ``part`` (digest) of every committed input (:func:`read_manifests`).

    A part whose shard is gone (deleted by hand, lost) is dropped, so its inputs are
    cropped again."""
    shards = {n for n in out.listdir() if is_part(n)}
    parts = []
    digests = sorted(committed(out))
    for digest, m in zip(digests, read_manifests(out, digests, [KEY_COLUMN, "shard"])):
        if any(s is not None and s not in shards for s in pc.unique(m.column("shard")).to_pylist()):
            log.warning("prepare: %s lost its shard: its %d inputs are cropped again", manifest_name(digest), m.num_rows)
            out.remove(manifest_name(digest))
            continue
        parts.append(pa.table({KEY_COLUMN: m.column(KEY_COLUMN).cast(pa.string()),
                               "part": pa.array([digest] * m.num_rows, pa.string())}))
    if not parts:
        return pa.table({KEY_COLUMN: pa.array([], pa.string()), "part": pa.array([], pa.string())})
    return pa.concat_tables(parts)


def drop_stale(out: Output, stale: pa.Table) -> int:
    """Remove the inputs of ``stale`` (``key``, ``part``) from their blocks.

    A block's remaining rows are committed under their own (content-addressed) names
    (``writer.commit_block``); the old files are deleted after, so a kill in between
    leaves a block that the next run shrinks to the same names.
    """
    from distlm.prepare.writer import commit_block

    gone = 0
    for digest in pc.unique(stale.column("part")).to_pylist():
        keys = stale.filter(pc.equal(stale.column("part"), digest)).column(KEY_COLUMN)
        manifest = out.read_table(manifest_name(digest))
        shard = out.read_table(shard_name(digest)) if out.exists(shard_name(digest)) else None
        keep_m = manifest.filter(pc.invert(pc.is_in(manifest.column(KEY_COLUMN), keys)))
        keep_s = keep_m.schema.empty_table() if shard is None else shard.filter(
            pc.invert(pc.is_in(shard.column(KEY_COLUMN), keys)))
        if keep_m.num_rows:
            commit_block(out, keep_s, keep_m)
        out.remove(manifest_name(digest))
        out.remove(shard_name(digest))
        gone += manifest.num_rows - keep_m.num_rows
    return gone


def describe_cleanup(orphans: int, stale: int) -> Dict[str, int]:
    if orphans or stale:
        log.info("prepare: removed %d unfinished shard(s) and %d input(s) no longer in the source", orphans, stale)
    return {"orphan_shards": orphans, "stale_inputs": stale}
