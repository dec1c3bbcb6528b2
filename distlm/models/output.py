"""What every distlm model returns."""
from __future__ import annotations

from typing import NamedTuple

import torch


class ModelOutput(NamedTuple):
    """``embedding`` (B, D): the layer below the decision layer, the one the
    large-margin / center / island losses see. ``logits`` (B, K): the head's raw
    output (K classes for softmax, M AUs for sigmoid/linear); use
    ``model.scores(logits)`` for probabilities / AU scores."""

    embedding: torch.Tensor
    logits: torch.Tensor
