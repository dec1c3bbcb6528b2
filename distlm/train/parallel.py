"""Wrap a worker's model for data-parallel training: plain ``torch.distributed``.

Used by the Ray Train loop and by ``torchrun`` alike, so both train the same
network: ``SyncBatchNorm`` when the model has batch norm and several CUDA workers
share a batch (per-GPU statistics of a 64-image shard are noisy), then
``DistributedDataParallel``. One process, or no process group: the model unchanged.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn


def has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def wrap_model(model: nn.Module, device: torch.device, world: int) -> nn.Module:
    """``model`` ready for ``world`` workers on ``device`` (already moved there).

    Returns the model itself when ``world`` is 1 or no process group is initialised;
    else a ``DistributedDataParallel`` around it, its batch norms made
    ``SyncBatchNorm`` on CUDA (CPU/gloo keeps per-worker statistics: SyncBatchNorm
    needs CUDA). The parameters keep their identity (an optimiser built on them before
    stays valid).
    """
    device = torch.device(device)
    if world <= 1 or not (dist.is_available() and dist.is_initialized()):
        return model
    if device.type == "cuda" and has_batch_norm(model):
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    # gradient_as_bucket_view: each .grad is a view of DDP's all-reduce bucket, so a
    # gradient whose kernel picks other strides (a 1-channel conv on CPU, an NHWC
    # batch) is accumulated into the bucket's layout instead of being copied into it
    # on every step, and the gradients take no memory of their own
    return nn.parallel.DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" and device.index is not None else None,
        gradient_as_bucket_view=True)
