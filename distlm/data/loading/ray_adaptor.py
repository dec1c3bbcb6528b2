"""Thin Ray Data adaptor: a shard (``DataIterator``) → a seeded stream factory of DomainBatches.

In a Ray Train worker, ``ray.train.get_dataset_shard(name)`` returns this worker's
shard of ``TorchTrainer(datasets={name: ...})``; each pass is one
``iter_torch_batches(..., local_shuffle_seed=seed)`` over it.
"""
from __future__ import annotations

from typing import Any, Dict, Iterator, Optional

import pyarrow as pa
import torch
from ray.data.collate_fn import ArrowBatchCollateFn

from distlm.data.loading.batch import DomainBatch
from distlm.data.loading.columns import TRAIN_COLUMNS, arrow_to_tensors
from distlm.data.loading.zipping import StreamFactory

#: Batches Ray reads ahead of the one a step consumes (training sides and the test set)
PREFETCH_BATCHES = 2


class ArrowTrainCollate(ArrowBatchCollateFn):
    """Arrow batch (shared schema) → dict of host tensors; Ray then moves them to the device."""

    def __call__(self, batch: pa.Table) -> Dict[str, torch.Tensor]:
        return arrow_to_tensors(batch, source="ray batch")


def shard_stream(shard: Any, batch_size: int, shuffle_buffer: Optional[int] = None,
                 device: str = "auto", prefetch_batches: int = PREFETCH_BATCHES) -> StreamFactory:
    """A ``DataIterator`` (or ``Dataset``) → ``seed ↦`` one pass of ``DomainBatch`` es of ``batch_size``.

    ``prefetch_batches`` are read ahead while a step runs, and with a GPU the host batches are
    pinned so that their copy to the device overlaps with compute."""
    import torch

    def one_pass(seed: int) -> Iterator[DomainBatch]:
        for d in shard.iter_torch_batches(
            batch_size=batch_size,
            local_shuffle_buffer_size=shuffle_buffer,
            local_shuffle_seed=seed if shuffle_buffer else None,
            drop_last=True,
            collate_fn=ArrowTrainCollate(),
            device=device,
            prefetch_batches=prefetch_batches,
            pin_memory=torch.cuda.is_available(),
        ):
            yield DomainBatch(d["images"], d["labels"], d["au"], d["au_mask"])

    return one_pass


def train_columns(ds: Any) -> Any:
    """Keep only the columns the loader reads (``ds.select_columns``), before the trainer gets it."""
    names = ds.schema().names
    return ds.select_columns([c for c in TRAIN_COLUMNS if c in names])


def get_train_shard(name: str) -> Any:
    """This Ray Train worker's shard of dataset ``name`` (``TorchTrainer(datasets={name: ...})``)."""
    import ray.train

    return ray.train.get_dataset_shard(name)


def driver_listed_parquet() -> None:
    """Read Parquet through Ray Data's V1 datasource: footers read on the driver.

    Since Ray 2.5x, ``read_parquet`` defaults to the V2 datasource, which lists files
    through a pool of 32 ``FooterReader`` actors started on every execution of the
    dataset, i.e. every epoch of every training side and every evaluation. Measured per
    pass on 2 cores (``benchmarks/bench_parquet_passes.py``, docs/benchmarks.md): 4.1 s
    vs 0.2 s for one shard, 37 s vs 3.1 s for 512 shards, and at 4,000 shards (a 1M-crop
    job) 6-7 s vs more than 5 minutes (V2 did not finish). V1 reads the footers once,
    when the dataset is built (in parallel tasks past a few dozen files). Call on the
    driver before ``read_parquet``; a no-op on Ray versions without the switch.
    """
    from ray.data import DataContext

    ctx = DataContext.get_current()
    if hasattr(ctx, "use_datasource_v2"):
        ctx.use_datasource_v2 = False


def read_order(deterministic: bool) -> "ExecutionOptions":
    """Ray Data's ingest options with ``preserve_order`` set to ``deterministic``.

    ``True``: block order, hence every shard's rows, is fixed for a world size and
    seed (``streaming_split`` then ignores locality hints): bit-reproducible runs.
    ``False`` (the trainer's default, ``data.deterministic_reads``): blocks go to the
    worker that asks first, on its own node when possible; shards stay disjoint.
    """
    from ray.train import DataConfig

    options = DataConfig.default_ingest_options()
    options.preserve_order = deterministic
    return options

