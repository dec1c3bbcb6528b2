"""The crop stage's plan: index the source, key every input, and write the inputs not
yet in the cache as pending parts. Runs as one Ray task (``remote_plan``), so the
index of a million images is built and held on a worker, not on the driver, which
receives only the counts.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict

import pyarrow as pa
import pyarrow.compute as pc

from distlm.errors import UserError
from distlm.prepare.compact import describe_cleanup, drop_orphans, drop_stale, manifest_keys
from distlm.prepare.index import Source, load_index
from distlm.prepare.keys import KEY_COLUMN, file_stats, with_keys
from distlm.prepare.layout import MANIFEST_DIR, PENDING_DIR, STATE_FILE, SUMMARY_FILE, Output, is_part, pending_name
from distlm.prepare.options import PrepareOptions
from distlm.prepare.order import ORDERS
from distlm.prepare.records import parquet_bytes
from distlm.prepare.slices import SLICE_COLUMN, slice_bounds, sort_index

log = logging.getLogger("distlm.prepare")
STATE_VERSION = 2


def check_state(out: Output, opts: PrepareOptions) -> None:
    """Refuse to reuse an output cropped with other settings (or an older layout)
    unless ``opts.overwrite``, which empties it first."""
    state = {"version": STATE_VERSION, "options": opts.fingerprint()}
    old = out.read_json(STATE_FILE)
    if old is not None and old != state:
        differs = sorted(k for k in set(old) | set(state) if old.get(k) != state.get(k))
        if isinstance(old.get("options"), dict) and "options" in differs:
            o, n = old["options"], state["options"]
            differs = sorted(set(differs) - {"options"} | {k for k in set(o) | set(n) if o.get(k) != n.get(k)})
        if not opts.overwrite:
            raise UserError(
                f"{out.uri}: holds a prepare run with different {', '.join(differs)}; "
                "pass overwrite=True (--overwrite) or choose another output")
        log.warning("prepare: %s differs in %s: deleting the previous run", out.uri, differs)
        for name in out.listdir():
            if is_part(name) or name in (SUMMARY_FILE, STATE_FILE):
                out.remove(name)
        for sub in (MANIFEST_DIR, PENDING_DIR):
            out.remove(sub)
            out.fs.makedirs(out.path(sub), exist_ok=True)
    if old != state:
        out.write_json(STATE_FILE, state)


def plan(source: Source, output: str, opts: PrepareOptions) -> Dict[str, Any]:
    """Index ``source``, bring ``output`` up to date with it, and write its pending parts.

    Returns:
        ``{"inputs", "cached", "pending", "parts", "orphan_shards", "stale_inputs",
        "metadata"}``: counts, and the index's schema metadata (str -> str) that every
        shard carries.

    Raises:
        UserError: an empty source, duplicate or null ids, an incompatible output.
    """
    out = Output(output, opts.storage)
    out.clean_temporaries()
    index = load_index(source, opts.storage)
    if index.num_rows == 0:
        where = source if not isinstance(source, pa.Table) else "the index table"
        raise UserError(f"{where}: no images to prepare (an empty folder or prefix, or none with an image "
                        f"extension; check the path and --format)")
    metadata = dict(index.schema.metadata or {})
    metadata[b"distlm.prepare"] = json.dumps(opts.fingerprint(), sort_keys=True).encode()
    index = sort_index(index.replace_schema_metadata(None), str(source) if not isinstance(source, pa.Table) else "index")
    if "image" in index.column_names and index.column("image").null_count == index.num_rows:
        index = index.drop_columns(["image"])
    check_state(out, opts)
    index = with_keys(file_stats(index, opts.storage), opts.fingerprint())
    orphans = drop_orphans(out)
    done = manifest_keys(out)
    stale = done.filter(pc.invert(pc.is_in(done.column(KEY_COLUMN), index.column(KEY_COLUMN))))
    gone = drop_stale(out, stale) if stale.num_rows else 0
    pending = index.filter(pc.invert(pc.is_in(index.column(KEY_COLUMN), done.column(KEY_COLUMN))))
    cached = index.num_rows - pending.num_rows
    del index, done
    pending = ORDERS.get(opts.order)(pending)
    for name in out.listdir(PENDING_DIR):
        out.remove(f"{PENDING_DIR}/{name}")
    bounds = slice_bounds(pending.num_rows, opts.shard_size)
    for k, (start, stop) in enumerate(bounds):
        part = pending.slice(start, stop - start)
        part = part.append_column(SLICE_COLUMN, pa.array([k] * part.num_rows, pa.int32()))
        out.write(pending_name(k), parquet_bytes(part))
    return {"inputs": cached + pending.num_rows, "cached": cached, "pending": pending.num_rows,
            "parts": len(bounds), **describe_cleanup(orphans, gone),
            "metadata": {k.decode(): v.decode() for k, v in metadata.items()}}


def remote_plan(source: Source, output: str, opts: PrepareOptions) -> Dict[str, Any]:
    """:func:`plan` in a Ray task (one CPU) for a source read from storage; in this
    process for an index table that is already here. Errors come back as raised."""
    if isinstance(source, pa.Table):
        return plan(source, output, opts)
    from distlm.ray_local import run_task

    return run_task(plan, source, output, opts, num_cpus=1, max_retries=2)
