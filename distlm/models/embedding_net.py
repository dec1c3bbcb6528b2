"""`EmbeddingNet`: backbone (B, C, H, W) -> embedding (B, D) -> head -> logits (B, K)."""
from __future__ import annotations

import torch
from torch import nn

from distlm.models.output import ModelOutput


class EmbeddingNet(nn.Module):
    """Thin wrapper that fixes the output contract of every distlm model.

    >>> out = model(images)            # images (B, C, H, W)
    >>> out.embedding.shape, out.logits.shape   # (B, D), (B, K)
    >>> probs = model.scores(out.logits)
    """

    def __init__(self, backbone: nn.Module, head: nn.Module, head_kind: str) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.head_kind = head_kind

    @property
    def embedding_dim(self) -> int:
        return int(self.backbone.out_dim)

    @property
    def num_outputs(self) -> int:
        return int(self.head.fc.out_features)

    def forward(self, images: torch.Tensor) -> ModelOutput:
        if images.dim() != 4:
            raise ValueError(f"expected images of shape (B, C, H, W), got {tuple(images.shape)}")
        embedding = self.backbone(images)
        return ModelOutput(embedding=embedding, logits=self.head(embedding))

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        """Softmax probabilities, sigmoid AU scores or raw intensities, per the head."""
        return self.head.scores(logits)
