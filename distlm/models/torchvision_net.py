"""Any torchvision classification model as a backbone: ``torchvision:<arch>``.

Built with ``weights=None`` (never downloads); its last ``nn.Linear`` (the
classifier) is replaced by ``nn.Identity`` so the backbone returns the penultimate
features (B, D). Models whose classifier is not a Linear (e.g. squeezenet) are refused.

``torchvision`` is imported on first use, not with the registry: it costs ~4 s per
process on 2 cores (it pulls in ``torch._dynamo``; ``time python -c "import torch,
torchvision"`` 8.7 s vs ``import torch`` 4.8 s), paid by every Ray worker that imports
the models even when the job's backbone is ``small_cnn`` or ``alexnet``.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import torch
from torch import nn

from distlm.models.registry import MODELS


def torchvision_archs() -> List[str]:
    """Names of torchvision's classification models (``torchvision.models``)."""
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


def _strip_classifier(net: nn.Module, arch: str) -> Tuple[nn.Module, int]:
    """Replace the last ``nn.Linear`` of ``net`` with Identity; return its in_features."""
    linears = [(name, m) for name, m in net.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"torchvision:{arch} has no Linear classifier to take features below")
    name, last = linears[-1]
    parent_name, _, child = name.rpartition(".")
    parent = net.get_submodule(parent_name) if parent_name else net
    setattr(parent, child, nn.Identity())
    return net, int(last.in_features)


class TorchvisionBackbone(nn.Module):
    """Images (B, C, H, W) -> penultimate features (B, D) [-> linear projection]."""

    def __init__(self, arch: str, in_channels: int = 3, embedding_dim: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__()
        known = torchvision_archs()
        if arch not in known:
            raise KeyError(f"unknown torchvision model {arch!r}; known: {', '.join(known)}")
        if arch in ("inception_v3", "googlenet"):
            kwargs.setdefault("aux_logits", False)
            kwargs.setdefault("init_weights", True)
        import torchvision

        net = torchvision.models.get_model(arch, weights=None, **kwargs)
        self.net, width = _strip_classifier(net, arch)
        # 1 channel: repeat to RGB; other counts: a learnt 1x1 mixing to 3.
        if in_channels == 3:
            self.adapt: nn.Module = nn.Identity()
        elif in_channels == 1:
            self.adapt = _RepeatChannels(3)
        else:
            self.adapt = nn.Conv2d(in_channels, 3, 1)
        project = embedding_dim is not None and embedding_dim != width
        self.project = nn.Linear(width, embedding_dim) if project else nn.Identity()
        self.out_dim = embedding_dim if embedding_dim is not None else width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(self.adapt(x))
        if isinstance(out, tuple):  # inception-style namedtuples in train mode
            out = out[0]
        return self.project(torch.flatten(out, 1))


class _RepeatChannels(nn.Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.expand(-1, self.n, -1, -1)


@MODELS.register("torchvision")
def torchvision_backbone(arch: str, in_channels: int = 3, image_size: int = 224,
                         embedding_dim: Optional[int] = None, **options) -> TorchvisionBackbone:
    """``torchvision:<arch>``; options go to ``torchvision.models.get_model``."""
    del image_size  # torchvision models pool adaptively
    return TorchvisionBackbone(arch, in_channels, embedding_dim, **options)
