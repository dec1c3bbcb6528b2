"""Rows of the Ray loader's local shuffle buffer, from the job's setting.

``data.shuffle_buffer`` is a row count (0: no shuffle) or ``auto``: as many rows as
``data.shuffle_buffer_mb`` holds, shared by the sides a worker reads (labelled, and
unlabelled when the job uses it), each row one raw crop of ``H·W·C`` uint8 bytes.

Example::

    shuffle_rows("auto", budget_mb=1024, row_bytes=227 * 227 * 3, sides=2)   # 3472 rows per side
    shuffle_rows(0, 1024, 227 * 227 * 3)                                       # None: shard order
"""
from __future__ import annotations

from typing import Optional, Union

AUTO = "auto"
MIB = 1 << 20


def row_bytes(image_size: int, channels: int) -> int:
    """Bytes of one raw ``(H, W, C)`` uint8 crop in a host batch (``H = W = image_size``)."""
    return image_size * image_size * channels


def shuffle_rows(setting: Union[int, str], budget_mb: int, row_bytes: int, sides: int = 1) -> Optional[int]:
    """Rows of each side's local shuffle buffer, or None for none (``setting`` 0).

    ``setting``: a row count, or ``"auto"``: ``budget_mb`` MiB split evenly over
    ``sides`` buffers of ``row_bytes``-byte rows, at least one row each.

    Raises:
        ValueError: an unknown setting, a negative count, or a budget, row size or
            side count that is not positive.
    """
    if isinstance(setting, bool) or not (isinstance(setting, int) or setting == AUTO):
        raise ValueError(f"shuffle buffer must be a row count or {AUTO!r}, got {setting!r}")
    if setting != AUTO:
        if setting < 0:
            raise ValueError(f"shuffle buffer must be >= 0 rows, got {setting}")
        return setting or None
    if budget_mb <= 0 or row_bytes <= 0 or sides <= 0:
        raise ValueError(f"shuffle budget {budget_mb} MiB, row {row_bytes} B, {sides} sides: each must be > 0")
    return max(1, budget_mb * MIB // (sides * row_bytes))
