"""The loader interface and its registry: ``LOADERS.create("memory" | "ray", ...)``.

A loader pairs a host source (which rows this worker reads) with a
:class:`DevicePipeline` (normalise + augment on the worker's device)::

    spec = LoaderSpec(batch_size=256, unlabelled_ratio=1.0, rank=r, world_size=w, seed=0)
    loader = LOADERS.create("memory", labelled=table_l, unlabelled=table_u, spec=spec,
                            pipeline=DevicePipeline("cuda", norm, "crop_flip"))
    for batch in loader.epoch(3):   # Batch: x_l, y_l, au_l, au_mask_l, x_u on cuda
        ...
"""
from __future__ import annotations

from typing import Any, Iterator, Optional, Protocol

from distlm.data.loading.batch import Batch, HostBatch
from distlm.data.loading.memory import MemorySource
from distlm.data.loading.pipeline import DevicePipeline
from distlm.data.loading.ray_source import RaySource
from distlm.data.loading.spec import LoaderSpec
from distlm.registry import Registry


class HostSource(Protocol):
    steps_per_epoch: Optional[int]

    def host_batches(self, epoch: int) -> Iterator[HostBatch]: ...


class Loader:
    """Yields :class:`Batch` es for the calling worker, one epoch at a time."""

    def __init__(self, source: HostSource, spec: LoaderSpec, pipeline: Optional[DevicePipeline] = None) -> None:
        self.source, self.spec = source, spec
        self.pipeline = pipeline or DevicePipeline()

    @property
    def steps_per_epoch(self) -> Optional[int]:
        """Steps in every epoch (``None`` when a Ray source has no cap: until its side ends)."""
        return self.source.steps_per_epoch

    def epoch(self, epoch: int) -> Iterator[Batch]:
        """This worker's batches of ``epoch``; augmentation seeded by ``(seed, rank, epoch)``."""
        gen = self.pipeline.generator(self.spec.seed, self.spec.rank, epoch)
        for host in self.source.host_batches(epoch):
            yield self.pipeline(host, gen)


LOADERS: Registry[Loader] = Registry("loader")


@LOADERS.register("memory")
def make_memory_loader(labelled: Any, spec: LoaderSpec, unlabelled: Any = None,
                       pipeline: Optional[DevicePipeline] = None, storage_device: str = "cpu") -> Loader:
    """Arrays (or Arrow tables in the shared schema) held by every worker."""
    return Loader(MemorySource(labelled, unlabelled, spec, storage_device), spec, pipeline)


@LOADERS.register("ray")
def make_ray_loader(spec: LoaderSpec, labelled: Any = None, unlabelled: Any = None,
                    pipeline: Optional[DevicePipeline] = None, shuffle_buffer: Optional[int] = None,
                    ray_device: str = "auto") -> Loader:
    """Ray Data shards (default: this Train worker's ``labelled``/``unlabelled`` shards)."""
    return Loader(RaySource(spec, labelled, unlabelled, shuffle_buffer, ray_device), spec, pipeline)
