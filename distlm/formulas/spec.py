"""Validate parsed YAML into a typed `FormulaSpec` (pure; no torch).

File format (see docs/formulas.md)::

    name: emfacs                # optional, free text
    description: ...            # optional, free text
    reference: ...              # optional, free text
    ids: facs                   # optional: facs (default) or any
    names: {6: cheek raiser}    # optional: id -> unique name
    emotions:                   # required, non-empty, file order is kept
      happiness: [6, 12]                    # equal weights
      pain: {aus: {4: 2.0, 43: 1.0}}        # per-id weights (> 0)
      contempt: {aus: [12, 14], optional: true}   # dropped unless asked for
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping

from distlm.formulas.errors import FormulaError
from distlm.formulas.ids import ID_SCHEMES, is_int

TOP_KEYS = ("name", "description", "reference", "ids", "names", "emotions")
EMOTION_KEYS = ("aus", "optional", "description")


@dataclass(frozen=True)
class Formula:
    """One pseudo-emotion: ``weights`` maps id -> weight (> 0), in file order."""

    name: str
    weights: Dict[int, float]
    optional: bool = False


@dataclass(frozen=True)
class FormulaSpec:
    """A whole formula file, validated. ``source`` names it in error messages."""

    source: str
    formulas: List[Formula]
    ids: str = "facs"
    names: Dict[int, str] = field(default_factory=dict)
    name: str = ""
    description: str = ""
    reference: str = ""

    @property
    def emotions(self) -> List[str]:
        return [f.name for f in self.formulas]


def _text(data: Mapping[str, Any], key: str, src: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise FormulaError(f"{src}: {key!r} must be a string, got {value!r}")
    return value


def _parse_ids(data: Mapping[str, Any], src: str) -> str:
    scheme = data.get("ids", "facs")
    if scheme not in ID_SCHEMES:
        known = ", ".join(sorted(ID_SCHEMES))
        raise FormulaError(f"{src}: unknown 'ids: {scheme}'; known schemes: {known}")
    return scheme


def check_id(value: Any, scheme: str, src: str, where: str) -> int:
    """Return ``value`` as a valid id of ``scheme`` or raise naming ``where``."""
    valid, what = ID_SCHEMES[scheme]
    if not is_int(value):
        raise FormulaError(f"{src}: {where}: {value!r} is not an integer id ({what} expected)")
    if not valid(value):
        raise FormulaError(f"{src}: {where}: unknown id {value} ({what} expected)")
    return value


def _parse_names(data: Mapping[str, Any], scheme: str, src: str) -> Dict[int, str]:
    raw = data.get("names", {}) or {}
    if not isinstance(raw, dict):
        raise FormulaError(f"{src}: 'names' must be a mapping id -> name, got {raw!r}")
    names: Dict[int, str] = {}
    for key, name in raw.items():
        i = check_id(key, scheme, src, "'names'")
        if not isinstance(name, str) or not name:
            raise FormulaError(f"{src}: 'names': the name of id {i} must be a string, got {name!r}")
        if name in names.values():
            raise FormulaError(f"{src}: 'names': name {name!r} is given to two ids")
        names[i] = name
    return names


def _resolve(item: Any, scheme: str, names: Dict[int, str], src: str, emo: str) -> int:
    """An id is an int, or a string declared under ``names:``."""
    if isinstance(item, str):
        by_name = {n: i for i, n in names.items()}
        if item in by_name:
            return by_name[item]
        known = ", ".join(sorted(by_name)) or "none declared under 'names:'"
        raise FormulaError(
            f"{src}: emotion {emo!r}: {item!r} is neither an integer id nor a declared name "
            f"(known names: {known})"
        )
    return check_id(item, scheme, src, f"emotion {emo!r}")


def _weight(value: Any, src: str, emo: str, i: int) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FormulaError(f"{src}: emotion {emo!r}: weight of id {i} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise FormulaError(f"{src}: emotion {emo!r}: weight of id {i} must be finite and > 0, got {value!r}")
    return float(value)


def _parse_formula(emo: Any, body: Any, scheme: str, names: Dict[int, str], src: str) -> Formula:
    if not isinstance(emo, str) or not emo:
        raise FormulaError(f"{src}: emotion names must be non-empty strings, got {emo!r}")
    optional = False
    if isinstance(body, dict):
        unknown = sorted(set(map(str, body)) - set(EMOTION_KEYS))
        if unknown:
            raise FormulaError(
                f"{src}: emotion {emo!r}: unknown key(s) {unknown}; allowed: {list(EMOTION_KEYS)}"
            )
        if "aus" not in body:
            raise FormulaError(f"{src}: emotion {emo!r}: missing 'aus'")
        optional = body.get("optional", False)
        if not isinstance(optional, bool):
            raise FormulaError(f"{src}: emotion {emo!r}: 'optional' must be true or false, got {optional!r}")
        body = body["aus"]
    if isinstance(body, list):
        pairs = [(item, 1.0) for item in body]
    elif isinstance(body, dict):
        pairs = list(body.items())
    else:
        raise FormulaError(
            f"{src}: emotion {emo!r}: expected a list of ids or a mapping id -> weight, got {body!r}"
        )
    if not pairs:
        raise FormulaError(f"{src}: emotion {emo!r} lists no ids")
    weights: Dict[int, float] = {}
    for item, w in pairs:
        i = _resolve(item, scheme, names, src, emo)
        if i in weights:
            raise FormulaError(f"{src}: emotion {emo!r}: id {i} is listed twice")
        weights[i] = _weight(w, src, emo, i)
    return Formula(emo, weights, optional)


def parse_spec(data: Any, src: str) -> FormulaSpec:
    """Validate the object read from a formula file named ``src``."""
    if not isinstance(data, dict):
        raise FormulaError(f"{src}: expected a mapping with 'emotions:' at top level, got {type(data).__name__}")
    unknown = sorted(set(map(str, data)) - set(TOP_KEYS))
    if unknown:
        raise FormulaError(f"{src}: unknown top-level key(s) {unknown}; allowed: {list(TOP_KEYS)}")
    if "emotions" not in data:
        raise FormulaError(f"{src}: missing 'emotions:'")
    emotions = data["emotions"]
    if not isinstance(emotions, dict) or not emotions:
        raise FormulaError(f"{src}: 'emotions' must be a non-empty mapping name -> ids, got {emotions!r}")
    scheme = _parse_ids(data, src)
    names = _parse_names(data, scheme, src)
    formulas = [_parse_formula(e, b, scheme, names, src) for e, b in emotions.items()]
    return FormulaSpec(
        source=src,
        formulas=formulas,
        ids=scheme,
        names=names,
        name=_text(data, "name", src),
        description=_text(data, "description", src),
        reference=_text(data, "reference", src),
    )


def spec_to_dict(spec: FormulaSpec) -> Dict[str, Any]:
    """The inverse of `parse_spec`: a plain dict that ``yaml.safe_dump`` can write.

    Equal weights are written as a list, others as a mapping id -> weight."""
    emotions: Dict[str, Any] = {}
    for f in spec.formulas:
        equal = len(set(f.weights.values())) == 1 and next(iter(f.weights.values())) == 1.0
        aus: Any = list(f.weights) if equal else dict(f.weights)
        if f.optional:
            emotions[f.name] = {"aus": aus, "optional": True}
        else:
            emotions[f.name] = aus if equal else {"aus": aus}
    out: Dict[str, Any] = {"name": spec.name, "description": spec.description}
    if spec.reference:
        out["reference"] = spec.reference
    out["ids"] = spec.ids
    if spec.names:
        out["names"] = dict(spec.names)
    out["emotions"] = emotions
    return out
