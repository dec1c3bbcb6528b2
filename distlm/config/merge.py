"""Nested-dict plumbing for spec files: deep merge (``extends:``), dotted
overrides (``train.epochs=3``) and provenance (which file set which key).

Provenance is a flat ``{dotted_key: source}`` map; `source_lookup` turns it into
the ``source_of(key)`` callable that error messages use.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Tuple

import yaml

from distlm.config.errors import SpecError

Origins = Dict[str, str]


def record_origins(tree: Mapping[str, Any], source: str, prefix: str = "") -> Origins:
    """Every key path in ``tree`` (nodes and leaves) mapped to ``source``."""
    out: Origins = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        out[path] = source
        if isinstance(value, Mapping):
            out.update(record_origins(value, source, path))
    return out


def deep_merge(base: Mapping[str, Any], child: Mapping[str, Any]) -> Dict[str, Any]:
    """``child`` over ``base``: mappings merge key by key, anything else replaces
    (lists included; ``null`` replaces a whole section, e.g. ``data.unlabelled: null``)."""
    out: Dict[str, Any] = dict(base)
    for key, value in child.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def source_lookup(origins: Origins, default: str):
    """``source_of(key)``: the source of ``key`` or of its nearest recorded parent."""

    def source_of(key: str) -> str:
        path = re.sub(r"\[\d+\]", "", key)
        while path:
            if path in origins:
                return origins[path]
            path = path.rpartition(".")[0]
        return default

    return source_of


def parse_override(text: str, source: str) -> Tuple[List[str], Any]:
    """``"train.epochs=3"`` -> ``(["train", "epochs"], 3)``; the value follows YAML
    scalar rules (``null``, ``true``, ``1.5``, ``[1, 2]``, ``{a: 1}`` all work)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    parts = key.split(".")
    if not sep or not key or any(not p for p in parts):
        raise SpecError(source, key or text, f"override {text!r} is not of the form dotted.key=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as err:
        raise SpecError(source, key, f"override value {raw!r} is not valid YAML: {err}") from None
    return parts, value


def apply_override(tree: Dict[str, Any], parts: List[str], value: Any, source: str) -> Dict[str, Any]:
    """A copy of ``tree`` with ``parts`` set to ``value`` (missing or null parents
    become mappings; the schema check later rejects unknown keys)."""
    out = dict(tree)
    node = out
    for i, name in enumerate(parts[:-1]):
        child = node.get(name)
        if child is None:
            child = {}
        elif not isinstance(child, Mapping):
            key = ".".join(parts[: i + 1])
            raise SpecError(source, ".".join(parts), f"{key!r} is a {type(child).__name__}, not a section")
        node[name] = dict(child)
        node = node[name]
    node[parts[-1]] = value
    return out
