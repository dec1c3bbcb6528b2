"""Memory format of a model's 4-D weights (and so of its convolution activations)."""
from __future__ import annotations

import torch
from torch import nn


def with_memory_format(model: nn.Module, channels_last: bool) -> nn.Module:
    """``model`` with its 4-D parameters and buffers in NHWC (``channels_last``) or unchanged.

    Convolutions whose weight is channels-last run the NHWC kernels whatever the input's
    layout (inputs (B, C, H, W) are converted once, outputs come back channels-last), so
    nothing else changes: state dicts load into either layout, values differ only in
    rounding. On CPU (oneDNN) a training step of the small CNN is 1.36x faster; evaluation,
    whose input is already an NHWC permutation, is not (``benchmarks/bench_memory_format.py``).
    """
    return model.to(memory_format=torch.channels_last) if channels_last else model
