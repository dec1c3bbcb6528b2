"""Embedding losses, all called as ``loss(embeddings (B, D), labels (B,))``.

>>> from distlm.losses import LargeMarginLoss, CenterLoss, IslandLoss
>>> loss = LargeMarginLoss(num_classes=7, centroids="batch")
"""
from distlm.losses.registry import LOSSES
from distlm.losses.base import EmbeddingLoss, reduce_loss
from distlm.losses import large_margin as _lm, center as _center, island as _island  # noqa: F401
from distlm.losses.large_margin import LargeMarginLoss, large_margin, normalize
from distlm.losses.center import CenterLoss, center_loss, center_delta
from distlm.losses.island import IslandLoss, island_penalty


def create_loss(name: str, **kwargs) -> EmbeddingLoss:
    """Build a registered loss by name (``lm``, ``center``, ``island``)."""
    return LOSSES.create(name, **kwargs)


def list_losses() -> list:
    return LOSSES.list()


__all__ = ["LOSSES", "EmbeddingLoss", "LargeMarginLoss", "CenterLoss", "IslandLoss",
           "large_margin", "center_loss", "center_delta", "island_penalty", "normalize",
           "reduce_loss", "create_loss", "list_losses"]
