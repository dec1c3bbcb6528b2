"""The model registries. Backbones map images (B, C, H, W) to features (B, D);
heads map features to logits (B, K). Entries register themselves in their own
modules, which `distlm.models` imports explicitly."""
from __future__ import annotations

from torch import nn

from distlm.registry import Registry

#: Backbone factories: ``(in_channels, image_size, embedding_dim, **options) -> nn.Module``
#: whose ``forward`` returns (B, D) and whose ``out_dim`` attribute is D.
MODELS: Registry[nn.Module] = Registry("model")

#: Head factories: ``(in_dim, num_outputs) -> nn.Module`` with ``scores(logits)``.
HEADS: Registry[nn.Module] = Registry("head")
