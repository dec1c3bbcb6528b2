"""Batched augmentation ops on ``(B, C, H, W)`` float tensors, seeded by a ``torch.Generator``.

Random parameters are drawn on the generator's device (one number or a few per
sample) and moved to the batch's device; pixels are never touched from Python.
Colour ops work in the normalised space: a brightness shift is in std units and a
contrast factor scales around each image's mean, which are affine maps that commute
with per-channel normalisation.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def uniform(gen: torch.Generator, shape: tuple, low: float, high: float, device: torch.device) -> torch.Tensor:
    """``U(low, high)`` of ``shape`` drawn on ``gen.device``, returned on ``device``."""
    u = torch.rand(shape, generator=gen, device=gen.device)
    return (low + (high - low) * u).to(device)


def bernoulli(gen: torch.Generator, n: int, p: float, device: torch.device) -> torch.Tensor:
    """``(n,) bool``: True with probability ``p``."""
    return torch.rand((n,), generator=gen, device=gen.device).lt(p).to(device)


def random_crop(x: torch.Tensor, gen: torch.Generator, padding: int = 4, mode: str = "reflect") -> torch.Tensor:
    """Pad by ``padding`` (reflect) and crop back to ``(H, W)`` at a random offset per sample.

    ``x (B, C, H, W)`` → same shape.
    """
    if padding <= 0:
        return x
    b, c, h, w = x.shape
    if mode == "reflect" and padding >= min(h, w):
        raise ValueError(f"reflect padding {padding} must be smaller than the image ({h}×{w})")
    padded = F.pad(x, (padding, padding, padding, padding), mode=mode)
    hi = 2 * padding + 1
    oy = torch.randint(0, hi, (b,), generator=gen, device=gen.device).to(x.device)
    ox = torch.randint(0, hi, (b,), generator=gen, device=gen.device).to(x.device)
    rows = (oy[:, None] + torch.arange(h, device=x.device)[None, :])  # (B, H)
    cols = (ox[:, None] + torch.arange(w, device=x.device)[None, :])  # (B, W)
    bidx = torch.arange(b, device=x.device)[:, None, None]
    # Advanced indices separated by a slice move to the front: result (B, H, W, C).
    out = padded[bidx, :, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()


def hflip(x: torch.Tensor, gen: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """Flip each sample left-right with probability ``p`` (a per-sample mask)."""
    mask = bernoulli(gen, x.shape[0], p, x.device)
    return torch.where(mask[:, None, None, None], x.flip(-1), x)


def brightness(x: torch.Tensor, gen: torch.Generator, strength: float) -> torch.Tensor:
    """Add a per-sample shift ``U(−strength, strength)`` (std units)."""
    if strength <= 0:
        return x
    shift = uniform(gen, (x.shape[0], 1, 1, 1), -strength, strength, x.device)
    return x + shift


def contrast(x: torch.Tensor, gen: torch.Generator, strength: float) -> torch.Tensor:
    """Scale each sample around its mean by ``U(1 − strength, 1 + strength)``."""
    if strength <= 0:
        return x
    factor = uniform(gen, (x.shape[0], 1, 1, 1), 1 - strength, 1 + strength, x.device)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * factor + mean


def saturation(x: torch.Tensor, gen: torch.Generator, strength: float) -> torch.Tensor:
    """Blend each sample with its channel mean by ``U(1 − strength, 1 + strength)`` (C > 1 only)."""
    if strength <= 0 or x.shape[1] == 1:
        return x
    factor = uniform(gen, (x.shape[0], 1, 1, 1), 1 - strength, 1 + strength, x.device)
    gray = x.mean(dim=1, keepdim=True)
    return (x - gray) * factor + gray


def color_jitter(x: torch.Tensor, gen: torch.Generator, brightness_: float = 0.1,
                 contrast_: float = 0.1, saturation_: float = 0.1) -> torch.Tensor:
    """Small per-sample brightness, contrast and saturation changes, in that order."""
    x = brightness(x, gen, brightness_)
    x = contrast(x, gen, contrast_)
    return saturation(x, gen, saturation_)
