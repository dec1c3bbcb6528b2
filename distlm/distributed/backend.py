"""Which ``torch.distributed`` backend a job's process group uses."""
from __future__ import annotations

GPU_BACKEND = "cpu:gloo,cuda:nccl"
CPU_BACKEND = "gloo"


def process_group_backend(use_gpu: bool) -> str:
    """``cpu:gloo,cuda:nccl`` with GPUs, ``gloo`` without.

    With GPUs every collective of a step runs on CUDA tensors through NCCL; the
    ``cpu:gloo`` half keeps a CPU-side collective (a metric, a flag) correct instead of
    failing as a pure ``nccl`` group would. Both the Ray Train driver and ``torchrun``
    use it.
    """
    return GPU_BACKEND if use_gpu else CPU_BACKEND
