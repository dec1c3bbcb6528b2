"""Training-time loading: per-worker batches for Ray Train workers.

Sources (``LOADERS``: ``memory``, ``ray``) decide which rows a worker reads; the
:class:`DevicePipeline` normalises and augments them on the worker's device.
See ``docs/loading.md``.
"""
from distlm.data.loading.augment import AUGMENT_STEPS, Augment, AugmentLike, build_augment, resolve_augment
from distlm.data.loading.augment_presets import AUGMENTATIONS
from distlm.data.loading.batch import Batch, DomainBatch, HostBatch
from distlm.data.loading.columns import DomainArrays, domain_arrays
from distlm.data.loading.loaders import LOADERS, Loader, make_memory_loader, make_ray_loader
from distlm.data.loading.memory import MemorySource
from distlm.data.loading.norm import (
    NORM_STATS_FILE,
    NormStats,
    compute_norm_stats,
    load_norm_stats,
    normalize,
    save_norm_stats,
)
from distlm.data.loading.pipeline import DevicePipeline, augment_generator
from distlm.data.loading.ray_source import RaySource
from distlm.data.loading.sizes import BatchSizes, split_batch_size
from distlm.data.loading.spec import LoaderSpec
from distlm.data.loading.zipping import CycledStream, zip_epoch

__all__ = [
    "AUGMENTATIONS", "AUGMENT_STEPS", "Augment", "AugmentLike", "Batch", "build_augment", "BatchSizes", "CycledStream", "DevicePipeline", "DomainArrays",
    "DomainBatch", "HostBatch", "LOADERS", "Loader", "LoaderSpec", "MemorySource", "NORM_STATS_FILE",
    "NormStats", "RaySource", "augment_generator", "compute_norm_stats", "domain_arrays",
    "load_norm_stats", "make_memory_loader", "make_ray_loader", "normalize", "resolve_augment",
    "save_norm_stats", "split_batch_size", "zip_epoch",
]
