"""The precision losses, probabilities and running statistics are computed in."""
from __future__ import annotations

import torch


def full_precision(x: torch.Tensor) -> torch.Tensor:
    """``x`` as float32, or as it is when already float64.

    Under mixed precision (bf16/fp16 model outputs) losses, softmaxes and the state
    they update are widened to float32; a caller working in float64 (exactness tests,
    a user who wants it) keeps float64 throughout. Shape unchanged.
    """
    return x if x.dtype == torch.float64 else x.float()
