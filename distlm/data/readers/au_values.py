"""Parsing AU annotation cells: known values kept, everything else masked.

Detection datasets (EmotioNet, BP4D) use 1 present / 0 absent; anything else
(999, 9, NaN, empty, text) is unknown: value 0 and mask False. Masked values are
counted in the report (``masked au values``) but never skip the row.
"""
from __future__ import annotations

import math
import re
from typing import Iterable, List, Optional, Sequence, Tuple

from distlm.data.report import ReadReport

_AU_NAME = re.compile(r"^(?:AU)?\s*0*(\d+)(?:_[rc])?$", re.IGNORECASE)


def au_number(header: str) -> Optional[int]:
    """AU id named by a header cell (``AU01``, ``au1``, ``1``, ``AU12_c``), else None."""
    m = _AU_NAME.match(header.strip())
    return int(m.group(1)) if m else None


def parse_float(text: str) -> Optional[float]:
    """A finite float, or None for empty / NaN / infinite / non-numeric text."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def binary_au(cells: Iterable[str], report: ReadReport) -> Tuple[List[float], List[bool]]:
    """Values and mask of 0/1 detection cells; other values are masked."""
    values: List[float] = []
    mask: List[bool] = []
    for cell in cells:
        v = parse_float(cell)
        known = v in (0.0, 1.0)
        values.append(float(v) if known else 0.0)
        mask.append(known)
    report.count("masked au values", mask.count(False))
    return values, mask


def real_au(cells: Iterable[str], report: ReadReport, unknown: Sequence[float] = (999.0,)) -> Tuple[List[float], List[bool]]:
    """Values and mask of real-valued cells (intensities); NaN, text, 999 masked."""
    values: List[float] = []
    mask: List[bool] = []
    for cell in cells:
        v = parse_float(cell)
        known = v is not None and v not in unknown
        values.append(float(v) if known else 0.0)
        mask.append(known)
    report.count("masked au values", mask.count(False))
    return values, mask
