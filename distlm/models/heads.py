"""Decision layers: one linear map, differing only in how logits become scores."""
from __future__ import annotations

import torch
from torch import nn

from distlm.models.registry import HEADS


class LinearHead(nn.Module):
    """(B, D) -> logits (B, K). ``scores`` is the identity (intensities)."""

    def __init__(self, in_dim: int, num_outputs: int) -> None:
        super().__init__()
        if num_outputs < 1:
            raise ValueError(f"a head needs at least one output, got num_outputs={num_outputs}")
        self.fc = nn.Linear(in_dim, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        return logits


@HEADS.register("linear")
def linear_head(in_dim: int, num_outputs: int) -> LinearHead:
    """AU intensities: raw linear outputs."""
    return LinearHead(in_dim, num_outputs)


class SoftmaxHead(LinearHead):
    """Mutually exclusive classes: ``scores`` are class probabilities (B, K)."""

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.softmax(logits, dim=-1)


@HEADS.register("softmax")
def softmax_head(in_dim: int, num_outputs: int) -> SoftmaxHead:
    return SoftmaxHead(in_dim, num_outputs)


class SigmoidHead(LinearHead):
    """Independent AUs: ``scores`` are per-AU probabilities (B, M)."""

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits)


@HEADS.register("sigmoid")
def sigmoid_head(in_dim: int, num_outputs: int) -> SigmoidHead:
    return SigmoidHead(in_dim, num_outputs)
