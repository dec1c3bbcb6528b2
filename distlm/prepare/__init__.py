"""``distlm.prepare``: face crops of a whole dataset as Parquet shards plus a manifest.

``python -m distlm.prepare --input SRC --output DST`` or ``prepare(SRC, DST, ...)``;
see docs/prepare.md.
"""
from distlm.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "PrepareOptions": "distlm.prepare.options",
    "prepare": "distlm.prepare.runner",
    "read_manifest": "distlm.prepare.read",
    "read_shard": "distlm.prepare.read",
    "read_summary": "distlm.prepare.read",
    "shard_images": "distlm.prepare.read",
    "shard_names": "distlm.prepare.read",
})
