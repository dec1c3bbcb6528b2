"""A small CNN for 28x28 single-channel images (Fashion-MNIST).

2x(conv3x3-BN-ReLU) -> pool -> 2x(conv3x3-BN-ReLU) -> pool -> fc -> embedding (B, D).
The embedding is the FC output (linear; ``embedding_relu=True`` adds a ReLU).
"""
from __future__ import annotations

from typing import List, Optional

import torch
from torch import nn

from distlm.models.registry import MODELS


# Per-sample norms ("group", "none") keep N workers exactly equal to one worker on
# the global batch (BatchNorm statistics are per worker; SyncBatchNorm is GPU-only).
NORMS = {
    "batch": lambda c: nn.BatchNorm2d(c),
    "group": lambda c: nn.GroupNorm(min(8, c), c),
    "none": lambda c: nn.Identity(),
}


def _block(cin: int, cout: int, norm: str = "batch") -> List[nn.Module]:
    if norm not in NORMS:
        raise ValueError(f"small_cnn norm must be one of {sorted(NORMS)}, got {norm!r}")
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=norm == "none"), NORMS[norm](cout), nn.ReLU(inplace=True)]


class SmallCNN(nn.Module):
    """Images (B, C, H, W) -> embedding (B, embedding_dim); any H, W >= 4."""

    def __init__(self, in_channels: int = 1, embedding_dim: int = 128, *, width: int = 32,
                 dropout: float = 0.0, embedding_relu: bool = False, norm: str = "batch") -> None:
        super().__init__()
        self.features = nn.Sequential(
            *_block(in_channels, width, norm), *_block(width, width, norm), nn.MaxPool2d(2),
            *_block(width, 2 * width, norm), *_block(2 * width, 2 * width, norm), nn.MaxPool2d(2),
        )
        self.pool = nn.AdaptiveAvgPool2d((7, 7))   # identity at 28 px
        layers: List[nn.Module] = [nn.Dropout(dropout)] if dropout > 0 else []
        layers.append(nn.Linear(2 * width * 7 * 7, embedding_dim))
        if embedding_relu:
            layers.append(nn.ReLU(inplace=True))
        self.fc = nn.Sequential(*layers)
        self.out_dim = embedding_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


@MODELS.register("small_cnn")
def small_cnn(in_channels: int = 1, image_size: int = 28, embedding_dim: Optional[int] = None,
              **options) -> SmallCNN:
    """Options: width (32), dropout (0), embedding_relu (False), norm (batch | group | none)."""
    if image_size < 4:
        raise ValueError(f"small_cnn needs images of at least 4 px, got image_size={image_size}")
    return SmallCNN(in_channels, 128 if embedding_dim is None else embedding_dim, **options)
