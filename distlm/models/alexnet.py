"""The paper's AlexNet (Krizhevsky et al. 2012) for 227x227 crops, from scratch.

conv1 96@11x11/4 -> pool -> conv2 256@5x5 -> pool -> conv3 384 -> conv4 384 ->
conv5 256 -> pool (256x6x6 at 227 px) -> fc6 4096 -> fc7 4096 -> [head].
Single-tower (no grouped convolutions); LRN and BatchNorm are both optional and off
by default (the paper used its library's defaults).
"""
from __future__ import annotations

from typing import List, Optional

import torch
from torch import nn

from distlm.models.registry import MODELS


def _conv(cin: int, cout: int, k: int, stride: int, pad: int, bn: bool, lrn: bool) -> List[nn.Module]:
    layers: List[nn.Module] = [nn.Conv2d(cin, cout, k, stride=stride, padding=pad, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.ReLU(inplace=True))
    if lrn:
        layers.append(nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0))
    return layers


def _fc(cin: int, cout: int, bn: bool, dropout: float) -> nn.Sequential:
    layers: List[nn.Module] = [nn.Dropout(dropout)] if dropout > 0 else []
    layers.append(nn.Linear(cin, cout, bias=not bn))
    if bn:
        layers.append(nn.BatchNorm1d(cout))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class AlexNetBackbone(nn.Module):
    """Images (B, C, H, W) -> embedding (B, D).

    ``embedding_layer`` picks the FC layer whose (ReLU) activation is the embedding:
    1 = fc6, 2 = fc7 (default). With ``embedding_dim`` set (and different from
    ``fc_dim``) a linear projection fc_dim -> embedding_dim follows that layer.
    """

    def __init__(self, in_channels: int = 3, embedding_dim: Optional[int] = None, *,
                 batch_norm: bool = False, lrn: bool = False, dropout: float = 0.5,
                 embedding_layer: int = 2, fc_dim: int = 4096) -> None:
        super().__init__()
        if embedding_layer not in (1, 2):
            raise ValueError(f"alexnet: embedding_layer must be 1 (fc6) or 2 (fc7), got {embedding_layer!r}")
        bn = batch_norm
        self.features = nn.Sequential(
            *_conv(in_channels, 96, 11, 4, 0, bn, lrn), nn.MaxPool2d(3, 2),
            *_conv(96, 256, 5, 1, 2, bn, lrn), nn.MaxPool2d(3, 2),
            *_conv(256, 384, 3, 1, 1, bn, False),
            *_conv(384, 384, 3, 1, 1, bn, False),
            *_conv(384, 256, 3, 1, 1, bn, False), nn.MaxPool2d(3, 2),
        )
        # Identity at 227 px (6x6 maps); keeps other sizes >= 67 px working.
        self.pool = nn.AdaptiveAvgPool2d((6, 6))
        fcs = [_fc(256 * 6 * 6, fc_dim, bn, dropout)]
        if embedding_layer == 2:
            fcs.append(_fc(fc_dim, fc_dim, bn, dropout))
        self.fc = nn.Sequential(*fcs)
        project = embedding_dim is not None and embedding_dim != fc_dim
        self.project = nn.Linear(fc_dim, embedding_dim) if project else nn.Identity()
        self.out_dim = embedding_dim if embedding_dim is not None else fc_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.features(x))
        return self.project(self.fc(torch.flatten(x, 1)))


@MODELS.register("alexnet")
def alexnet(in_channels: int = 3, image_size: int = 227, embedding_dim: Optional[int] = None,
            **options) -> AlexNetBackbone:
    """AlexNet for ``image_size`` (227 in the paper); options: batch_norm, lrn,
    dropout, embedding_layer (1|2), fc_dim."""
    if image_size < 67:
        raise ValueError(f"alexnet needs images of at least 67 px, got image_size={image_size}")
    return AlexNetBackbone(in_channels, embedding_dim, **options)
