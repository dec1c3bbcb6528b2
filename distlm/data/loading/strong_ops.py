"""Strong (RandAugment-like) batched ops on ``(B, C, H, W)`` floats, for SSL consistency work.

Each op draws its per-sample parameters from a ``torch.Generator``; ``rand_augment``
applies every op of its list (``RAND_OPS`` names) to the whole batch and keeps the
result per sample with probability ``num_ops / len(ops)``, so each sample gets about
``num_ops`` ops without a Python loop.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from distlm.data.loading.augment_ops import bernoulli, brightness, contrast, saturation, uniform
from distlm.registry import Registry


def affine_matrices(gen: torch.Generator, n: int, degrees: float, translate: float,
                    scale: tuple, shear: float, device: torch.device) -> torch.Tensor:
    """Per-sample ``(n, 2, 3)`` matrices for ``F.affine_grid`` (normalised coordinates)."""
    angle = uniform(gen, (n,), -degrees, degrees, device) * math.pi / 180
    sh = uniform(gen, (n,), -shear, shear, device) * math.pi / 180
    s = uniform(gen, (n,), scale[0], scale[1], device)
    tx = uniform(gen, (n,), -2 * translate, 2 * translate, device)  # grid spans [-1, 1]: width 2
    ty = uniform(gen, (n,), -2 * translate, 2 * translate, device)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # Rotation then shear along x, scaled: the inverse map used to sample the input.
    a = cos / s
    b = (-sin + torch.tan(sh) * cos) / s
    c = sin / s
    d = (cos + torch.tan(sh) * sin) / s
    return torch.stack([torch.stack([a, b, tx], 1), torch.stack([c, d, ty], 1)], 1)


def random_affine(x: torch.Tensor, gen: torch.Generator, degrees: float = 30.0, translate: float = 0.1,
                  scale: tuple = (0.9, 1.1), shear: float = 10.0, padding_mode: str = "zeros") -> torch.Tensor:
    """Rotate/shear/scale/translate each sample via ``affine_grid`` + ``grid_sample`` (bilinear)."""
    theta = affine_matrices(gen, x.shape[0], degrees, translate, scale, shear, x.device).to(x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)


def cutout(x: torch.Tensor, gen: torch.Generator, size: float = 0.5, value: float = 0.0) -> torch.Tensor:
    """Set a square of side ``size·min(H, W)`` at a random centre per sample to ``value``.

    ``value = 0`` is the dataset mean once normalised. The square is clipped at borders.
    """
    b, _, h, w = x.shape
    half = max(1, int(round(size * min(h, w)))) / 2
    cy = uniform(gen, (b, 1, 1), 0, h, x.device)
    cx = uniform(gen, (b, 1, 1), 0, w, x.device)
    ys = torch.arange(h, device=x.device, dtype=torch.float32)[None, :, None] + 0.5
    xs = torch.arange(w, device=x.device, dtype=torch.float32)[None, None, :] + 0.5
    inside = ((ys - cy).abs() < half) & ((xs - cx).abs() < half)  # (B, H, W)
    return x.masked_fill(inside[:, None], value)


RandOp = Callable[[torch.Tensor, torch.Generator, float], torch.Tensor]
#: RandAugment's ops: ``op(x, gen, magnitude)``, magnitude in [0, 1] scaling the op's range
RAND_OPS: Registry[RandOp] = Registry("RandAugment op")


@RAND_OPS.register("affine")
def rand_affine(x: torch.Tensor, gen: torch.Generator, m: float) -> torch.Tensor:
    """±30·m° rotation, ±0.15·m translation, 1 ± 0.2·m scale, ±15·m° shear."""
    return random_affine(x, gen, degrees=30 * m, translate=0.15 * m, scale=(1 - 0.2 * m, 1 + 0.2 * m), shear=15 * m)


@RAND_OPS.register("brightness")
def rand_brightness(x: torch.Tensor, gen: torch.Generator, m: float) -> torch.Tensor:
    """Shift by U(−0.5·m, 0.5·m) std."""
    return brightness(x, gen, 0.5 * m)


@RAND_OPS.register("contrast")
def rand_contrast(x: torch.Tensor, gen: torch.Generator, m: float) -> torch.Tensor:
    """Scale around the image mean by U(1 − 0.5·m, 1 + 0.5·m)."""
    return contrast(x, gen, 0.5 * m)


@RAND_OPS.register("saturation")
def rand_saturation(x: torch.Tensor, gen: torch.Generator, m: float) -> torch.Tensor:
    """Scale around the channel mean by U(1 − 0.5·m, 1 + 0.5·m) (3 channels only)."""
    return saturation(x, gen, 0.5 * m)


def rand_augment(x: torch.Tensor, gen: torch.Generator, num_ops: int = 2, magnitude: float = 0.5,
                 ops: Sequence[str] = ("affine", "brightness", "contrast", "saturation")) -> torch.Tensor:
    """RandAugment-like: ~``num_ops`` of ``ops`` (names in ``RAND_OPS``) per sample, in that order.

    ``x (B, C, H, W)`` → same shape. Every op runs on the whole batch and each sample
    keeps its result with probability ``min(1, num_ops / len(ops))`` (one Bernoulli draw
    per sample and op, before the op's own draws).
    """
    m = float(magnitude)
    fns = [RAND_OPS.get(name) for name in ops]
    if not fns:
        return x
    p = min(1.0, num_ops / len(fns))
    for op in fns:
        keep = bernoulli(gen, x.shape[0], p, x.device)
        x = torch.where(keep[:, None, None, None], op(x, gen, m), x)
    return x
