"""Markdown tables in the layout of the paper's tables 1 and 2."""
from __future__ import annotations

import pytest

from distlm.metrics import format_table1, format_table2


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_table1_columns_and_percentages() -> None:
    rows = [
        {"method": "AlexNet", "framework": "Superv", "avg_acc": 0.556, "acc": 0.689},
        {"method": "AlexNet + LM loss", "framework": "SSL", "avg_acc": 0.67264, "acc": 0.79853, "num_samples": 3068},
        {"method": "no run yet", "framework": "SSL"},
    ]
    lines = format_table1(rows).strip().splitlines()
    assert _cells(lines[0]) == ["Method", "Framework", "Avg. Acc.", "Acc."]
    assert _cells(lines[1]) == ["---", "---", "---:", "---:"]
    assert _cells(lines[2]) == ["AlexNet", "Superv", "55.60", "68.90"]
    assert _cells(lines[3]) == ["AlexNet + LM loss", "SSL", "67.26", "79.85"]
    assert _cells(lines[4]) == ["no run yet", "SSL", "n/a", "n/a"]
    assert len(lines) == 2 + len(rows)


def test_table2_columns_and_na_for_unannotated_aus() -> None:
    rows = [
        {"method": "AlexNet", "framework": "Sv", "f1": {1: 0.044, 2: 0.242, 5: 0.347}, "avg_small": 0.3},
        {"method": "AlexNet + LM loss", "framework": "T", "f1": {1: 0.253, 4: 0.345, 2: 0.1},
         "avg_small": 0.5833, "avg_full": 0.49},
    ]
    lines = format_table2(rows).strip().splitlines()
    assert _cells(lines[0]) == ["Method", "FW", "AU1", "AU2", "AU4", "AU5", "Avg. small", "Avg. full"]
    assert _cells(lines[2]) == ["AlexNet", "Sv", "4.4", "24.2", "n/a", "34.7", "30.0", "n/a"]
    assert _cells(lines[3]) == ["AlexNet + LM loss", "T", "25.3", "10.0", "34.5", "n/a", "58.3", "49.0"]


def test_table2_explicit_au_columns_and_raw_values() -> None:
    rows = [{"method": "m", "framework": "SSL", "f1": {6: 0.5}, "avg_small": float("nan"), "avg_full": 0.5}]
    out = format_table2(rows, au_ids=[1, 6, 43], percent=False, digits=3)
    lines = out.strip().splitlines()
    assert _cells(lines[0])[2:5] == ["AU1", "AU6", "AU43"]
    assert _cells(lines[2]) == ["m", "SSL", "n/a", "0.500", "n/a", "n/a", "0.500"]


def test_pipe_in_method_name_is_escaped() -> None:
    out = format_table1([{"method": "a|b", "framework": "SSL", "acc": 0.5, "avg_acc": 0.5}])
    assert len(_cells(out.splitlines()[2].replace("\\|", "/"))) == 4


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: format_table1([{"framework": "SSL"}]), "row 0: missing 'method'"),
        (lambda: format_table1([{"method": "m", "framework": "S", "acc": "high"}]), "'high'"),
        (lambda: format_table2([{"method": "m", "framework": "T", "f1": {"AU1": 0.3}}]), "'f1'"),
    ],
)
def test_bad_rows(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        call()
