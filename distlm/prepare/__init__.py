"""``distlm.prepare``: face crops of a whole dataset as Parquet shards plus a manifest.

``python -m distlm.prepare --input SRC --output DST`` or ``prepare(SRC, DST, ...)``;
see docs/prepare.md.
"""
from distlm.prepare.options import PrepareOptions
from distlm.prepare.read import read_manifest, read_shard, read_summary, shard_images, shard_names
from distlm.prepare.runner import prepare

__all__ = ["PrepareOptions", "prepare", "read_manifest", "read_shard", "read_summary",
           "shard_images", "shard_names"]
