"""Markdown tables in the layout of the paper's tables 1 (expressions) and 2 (AUs).

Rows are plain dicts, so the output of ``ExpressionMetrics.compute()`` /
``AUMetrics.compute()`` can be splatted in: ``{"method": ..., "framework": ...,
**metrics.compute()}``. Scores are fractions in [0, 1], printed as percentages.
"""
from __future__ import annotations

import math
from typing import Any, List, Mapping, Optional, Sequence

NA = "n/a"


def _cell(value: Any, percent: bool, digits: int) -> str:
    if value is None:
        return NA
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"table: expected a number or None, got {value!r}")
    if math.isnan(value):
        return NA
    return f"{value * 100 if percent else value:.{digits}f}"


def _text(row: Mapping[str, Any], key: str, index: int) -> str:
    if key not in row:
        raise ValueError(f"table row {index}: missing {key!r} (row keys: {sorted(row)})")
    return str(row[key]).replace("|", "\\|")


def _markdown(header: List[str], body: List[List[str]], text_cols: int) -> str:
    align = ["---"] * text_cols + ["---:"] * (len(header) - text_cols)
    lines = [header, align, *body]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines) + "\n"


def format_table1(rows: Sequence[Mapping[str, Any]], percent: bool = True, digits: int = 2) -> str:
    """Table 1: ``Method | Framework | Avg. Acc. | Acc.``.

    Each row needs ``method`` and ``framework`` (e.g. ``Superv``, ``SSL``) and may give
    ``avg_acc`` and ``acc`` (missing, None or nan print ``n/a``)."""
    body = [
        [
            _text(r, "method", i),
            _text(r, "framework", i),
            _cell(r.get("avg_acc"), percent, digits),
            _cell(r.get("acc"), percent, digits),
        ]
        for i, r in enumerate(rows)
    ]
    return _markdown(["Method", "Framework", "Avg. Acc.", "Acc."], body, text_cols=2)


def _f1_map(row: Mapping[str, Any], index: int) -> Mapping[int, Any]:
    f1 = row.get("f1", {})
    if not isinstance(f1, Mapping) or not all(isinstance(k, int) and not isinstance(k, bool) for k in f1):
        raise ValueError(f"table row {index}: 'f1' must be a mapping AU id (int) -> F1, got {f1!r}")
    return f1


def format_table2(
    rows: Sequence[Mapping[str, Any]],
    au_ids: Optional[Sequence[int]] = None,
    percent: bool = True,
    digits: int = 1,
) -> str:
    """Table 2: ``Method | FW | AU1 ... AUn | Avg. small | Avg. full``.

    Each row needs ``method`` and ``framework`` (``Sv``, ``SSL``, ``T``) and may give
    ``f1`` (mapping AU id -> F1), ``avg_small`` and ``avg_full``. ``au_ids`` sets the
    AU columns (default: the sorted union of the rows' ``f1`` keys); an AU a row does
    not give prints ``n/a`` (not annotated)."""
    maps = [_f1_map(r, i) for i, r in enumerate(rows)]
    cols = list(au_ids) if au_ids is not None else sorted({k for m in maps for k in m})
    body = [
        [_text(r, "method", i), _text(r, "framework", i)]
        + [_cell(m.get(a), percent, digits) for a in cols]
        + [_cell(r.get("avg_small"), percent, digits), _cell(r.get("avg_full"), percent, digits)]
        for i, (r, m) in enumerate(zip(rows, maps))
    ]
    header = ["Method", "FW", *[f"AU{a}" for a in cols], "Avg. small", "Avg. full"]
    return _markdown(header, body, text_cols=2)
