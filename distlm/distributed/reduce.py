"""One collective for many tensors.

Centroid statistics (per-class sums ``(C, D)`` and counts ``(C,)``) are summed
over the process group in a *single* ``all_reduce`` by packing them into one flat
buffer, so a step pays one latency, not one per tensor. Without an initialised
process group every function here is the identity.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
import torch.distributed as dist


def is_distributed(group: Optional[object] = None) -> bool:
    """True when a ``torch.distributed`` process group is initialised."""
    return dist.is_available() and dist.is_initialized()


def world_size(group: Optional[object] = None) -> int:
    """Number of processes in ``group`` (1 without a process group)."""
    return dist.get_world_size(group) if is_distributed(group) else 1


def all_reduce_sum(
    tensors: Sequence[torch.Tensor], group: Optional[object] = None
) -> Tuple[torch.Tensor, ...]:
    """Sum each tensor over the process group, in one collective.

    Args:
        tensors: any shapes; they are cast to one common floating dtype for the
            transfer (float64 when any is float64, else float32) and back.
    Returns:
        New tensors of the same shapes and dtypes (the inputs when not distributed).
    """
    if not is_distributed(group) or not tensors:
        return tuple(tensors)
    dtype = torch.float64 if any(t.dtype == torch.float64 for t in tensors) else torch.float32
    flat = torch.cat([t.detach().reshape(-1).to(dtype) for t in tensors])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM, group=group)
    out, offset = [], 0
    for t in tensors:
        n = t.numel()
        out.append(flat[offset : offset + n].view(t.shape).to(t.dtype))
        offset += n
    return tuple(out)


#: how a tensor can be combined across processes (name -> ``dist.ReduceOp`` member)
REDUCE_OPS = {"sum": "SUM", "max": "MAX", "min": "MIN"}


def all_reduce(tensor: torch.Tensor, op: str = "sum", group: Optional[object] = None) -> torch.Tensor:
    """``tensor`` reduced (``sum`` | ``max`` | ``min``) over the process group, returned
    on its own device (the input when not distributed; never modified in place).

    The tensor is reduced where it lives (``cpu:gloo,cuda:nccl`` takes both); only a
    pure ``nccl`` group, which refuses CPU tensors, gets a CUDA copy of a CPU tensor.
    """
    if not is_distributed(group):
        return tensor
    if op not in REDUCE_OPS:
        raise ValueError(f"reduce op must be one of {sorted(REDUCE_OPS)}, got {op!r}")
    work = tensor.detach().clone()
    if work.device.type == "cpu" and dist.get_backend(group) == "nccl":
        work = work.to(torch.device("cuda", torch.cuda.current_device()))
    dist.all_reduce(work, op=getattr(dist.ReduceOp, REDUCE_OPS[op]), group=group)
    return work.to(tensor.device)
