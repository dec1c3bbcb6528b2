"""The precision losses, probabilities and running statistics are computed in."""
from __future__ import annotations

import torch


def full_dtype(dtype: torch.dtype) -> torch.dtype:
    """float64 stays float64; every other floating dtype is computed in float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def full_precision(x: torch.Tensor) -> torch.Tensor:
    """``x`` as float32, or as it is when already float64.

    Under mixed precision (bf16/fp16 model outputs) losses, softmaxes and the state
    they update are widened to float32; a caller working in float64 (exactness tests,
    a user who wants it) keeps float64 throughout. Shape unchanged.
    """
    return x if x.dtype == full_dtype(x.dtype) else x.float()
