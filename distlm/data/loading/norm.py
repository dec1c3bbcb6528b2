"""Per-colour-plane normalisation: statistics in one streaming pass, applied on device.

Statistics are in uint8 pixel units (0-255): ``normalize`` computes
``(x − mean) / std`` on the raw pixel values. They are stored beside the crops as
``norm_stats.json`` (local path or any fsspec URL such as ``s3://…``).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence, Tuple

import numpy as np
import torch

NORM_STATS_FILE = "norm_stats.json"


@dataclass(frozen=True)
class NormStats:
    """Per-channel ``mean (C,)`` and ``std (C,)`` in uint8 pixel units, over ``count`` pixels per channel."""

    mean: Tuple[float, ...]
    std: Tuple[float, ...]
    count: int = 0

    def __post_init__(self) -> None:
        if len(self.mean) != len(self.std) or not self.mean:
            raise ValueError(f"mean {self.mean} and std {self.std} must be non-empty and of equal length")
        if any(not (s > 0 and math.isfinite(s)) for s in self.std):
            raise ValueError(f"std must be positive and finite, got {self.std}")

    @property
    def channels(self) -> int:
        return len(self.mean)

    @staticmethod
    def unit(channels: int) -> "NormStats":
        """Stats that only rescale to [0, 1] (mean 0, std 255)."""
        return NormStats((0.0,) * channels, (255.0,) * channels)

    def to_dict(self) -> dict:
        return {"mean": list(self.mean), "std": list(self.std), "count": int(self.count), "scale": "uint8"}


def _chunks(images: Any, column: str) -> Iterable[np.ndarray]:
    if hasattr(images, "iter_batches") and hasattr(images, "select_columns"):  # ray.data.Dataset
        for batch in images.select_columns([column]).iter_batches(batch_format="numpy", batch_size=1024):
            yield batch[column]
    elif hasattr(images, "column_names"):  # pyarrow.Table
        from distlm.data.image_column import decode

        for rb in images.select([column]).to_batches(max_chunksize=1024):
            yield decode(_table_of(rb), column)
    else:
        for item in images:
            yield item.numpy() if isinstance(item, torch.Tensor) else np.asarray(item)


def _table_of(record_batch: Any) -> Any:
    import pyarrow as pa

    return pa.Table.from_batches([record_batch])


def compute_norm_stats(images: Any, column: str = "image") -> NormStats:
    """Per-plane mean and (population) std of uint8 images in one streaming pass.

    ``images``: an iterable of ``(B, H, W, C)`` or ``(H, W, C)`` uint8 arrays/tensors, a
    ``pyarrow.Table`` or a ``ray.data.Dataset`` with an ``image`` tensor column. Sums
    and sums of squares are exact integers per chunk, accumulated in float64.

    Example::

        >>> stats = compute_norm_stats([np.full((2, 4, 4, 3), 7, np.uint8)])
        >>> stats.mean, stats.std
        ((7.0, 7.0, 7.0), ...)
    """
    total = total_sq = None
    count = 0
    channels = None
    for chunk in _chunks(images, column):
        if chunk.dtype != np.uint8:
            raise ValueError(f"compute_norm_stats expects uint8 pixels, got {chunk.dtype}")
        if chunk.ndim not in (3, 4):
            raise ValueError(f"expected (B, H, W, C) or (H, W, C) images, got shape {chunk.shape}")
        c = chunk.shape[-1]
        if channels is None:
            channels, total, total_sq = c, np.zeros(c, np.float64), np.zeros(c, np.float64)
        elif c != channels:
            raise ValueError(f"images have {c} channels after {channels}")
        flat = chunk.reshape(-1, c)
        wide = flat.astype(np.uint64)
        total += wide.sum(axis=0)
        total_sq += (wide * wide).sum(axis=0)
        count += flat.shape[0]
    if not count:
        raise ValueError("compute_norm_stats got no images")
    mean = total / count
    var = np.maximum(total_sq / count - mean * mean, 0.0)
    std = np.sqrt(var)
    if (std == 0).any():
        raise ValueError(f"a colour plane is constant (std {std.tolist()}); cannot normalise")
    return NormStats(tuple(mean.tolist()), tuple(std.tolist()), count)


def _stats_path(path: str) -> str:
    p = str(path)
    return p if p.endswith(".json") else p.rstrip("/") + "/" + NORM_STATS_FILE


def save_norm_stats(stats: NormStats, path: str) -> str:
    """Write ``stats`` to ``path`` (a ``.json`` file, or a folder → ``folder/norm_stats.json``)."""
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    target = _stats_path(path)
    fs, fpath = fsspec.core.url_to_fs(target)
    parent = fpath.rsplit("/", 1)[0]
    if parent and isinstance(fs, LocalFileSystem):  # object stores have no folders to make
        fs.makedirs(parent, exist_ok=True)
    with fs.open(fpath, "w") as f:
        json.dump(stats.to_dict(), f, indent=2)
    return target


def load_norm_stats(path: str) -> NormStats:
    """Read stats written by :func:`save_norm_stats`; bad content raises naming the file."""
    import fsspec

    target = _stats_path(path)
    try:
        with fsspec.open(target, "r") as f:
            raw = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{target}: no normalisation stats; run compute_norm_stats first") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{target}: not valid JSON ({e})") from None
    try:
        return NormStats(tuple(float(v) for v in raw["mean"]), tuple(float(v) for v in raw["std"]), int(raw.get("count", 0)))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{target}: bad normalisation stats ({e}); expected {{'mean': [...], 'std': [...]}}") from None


def normalize(x: torch.Tensor, mean: Sequence[float] | torch.Tensor, std: Sequence[float] | torch.Tensor) -> torch.Tensor:
    """``(B, H, W, C) uint8`` → ``(B, C, H, W) float32`` as ``(x − mean) / std`` per channel.

    Runs on ``x.device`` (call it on the worker's GPU to ship 4× fewer bytes).
    """
    if x.dim() != 4:
        raise ValueError(f"normalize expects (B, H, W, C) pixels, got shape {tuple(x.shape)}")
    mean_t = torch.as_tensor(mean, dtype=torch.float32, device=x.device)
    std_t = torch.as_tensor(std, dtype=torch.float32, device=x.device)
    if mean_t.numel() != x.shape[-1] or std_t.numel() != x.shape[-1]:
        raise ValueError(f"stats have {mean_t.numel()} channels, images have {x.shape[-1]}")
    # canonical NCHW strides, even for one channel: ``permute(...).contiguous()`` keeps
    # the NHWC strides when C = 1 (both layouts count as contiguous), convolutions then
    # return weight gradients in NHWC strides, and DDP copies every such gradient into
    # its buckets on every step ("Grad strides do not match bucket view strides")
    y = torch.empty((x.shape[0], x.shape[3], x.shape[1], x.shape[2]), dtype=torch.float32, device=x.device)
    y.copy_(x.permute(0, 3, 1, 2))
    return y.sub_(mean_t.view(1, -1, 1, 1)).div_(std_t.view(1, -1, 1, 1))
