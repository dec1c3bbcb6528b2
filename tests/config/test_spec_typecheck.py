"""The pure type checker under the spec loader."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Optional, Tuple

import pytest

from distlm.config import SpecError
from distlm.config.typecheck import build_dataclass, coerce, to_plain, type_name


def src(key: str) -> str:
    return "f.yaml"


@pytest.mark.parametrize("value, tp, out", [
    (3, float, 3.0), ("1e-3", float, 1e-3), (True, bool, True), ("a", Literal["a", "b"], "a"),
    (None, Optional[int], None), ([1, 2], Tuple[int, ...], (1, 2)), ([1, 2], List[int], [1, 2]),
    ({"a": 1}, Dict[str, float], {"a": 1.0}), ({"x": [1]}, Any, {"x": [1]}),
])
def test_accepts(value, tp, out) -> None:
    got = coerce(value, tp, "k", src)
    assert got == out and type(got) is type(out)


@pytest.mark.parametrize("value, tp", [
    (True, int), (1, bool), (True, float), ("3", int), (3, str), ("c", Literal["a", "b"]),
    (1, Literal["1"]), ([1], Tuple[int, int]), ({1: 2}, Dict[str, int]), ("x", List[int]),
])
def test_refuses(value, tp) -> None:
    with pytest.raises(SpecError) as info:
        coerce(value, tp, "k", src)
    assert info.value.key == "k" and info.value.source == "f.yaml"
    assert repr(value) in str(info.value)


@dataclass
class Inner:
    n: int = 1


@dataclass
class Outer:
    inner: Inner = field(default_factory=Inner)
    items: List[Inner] = field(default_factory=list)
    pair: Tuple[float, float] = (0.0, 1.0)


def test_nested_keys_are_dotted_and_indexed() -> None:
    with pytest.raises(SpecError) as info:
        build_dataclass(Outer, {"items": [{"n": 1}, {"n": "x"}]}, "", src)
    assert info.value.key == "items[1].n"
    with pytest.raises(SpecError, match="did you mean 'n'"):
        build_dataclass(Outer, {"inner": {"nn": 1}}, "", src)


def test_to_plain_round_trip() -> None:
    obj = Outer(Inner(2), [Inner(3)], (0.5, 2.0))
    plain = to_plain(obj)
    assert plain == {"inner": {"n": 2}, "items": [{"n": 3}], "pair": [0.5, 2.0]}
    assert build_dataclass(Outer, plain, "", src) == obj


def test_type_names() -> None:
    assert type_name(Optional[int]) == "int or null"
    assert type_name(Literal["a", "b"]) == "one of 'a', 'b'"
    assert type_name(Tuple[float, float]) == "tuple[float, float]"
