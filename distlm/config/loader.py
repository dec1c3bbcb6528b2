"""Load, resolve, check and save job specs.

>>> spec = load_job("jobs/fmnist/ce_lm.yaml", ["train.epochs=3", "scaling.num_workers=2"])
>>> spec.train.epochs
3

Resolution order: the ``extends:`` chain (bases first, each file over its bases),
then the command-line overrides, then the type check (unknown keys, wrong types,
bad enum values), then the cross-field rules of `distlm.config.validate`.
Every failure is a `SpecError` naming the file (or override) that set the key.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, Mapping, Sequence, Tuple

import yaml

from distlm.config.errors import SpecError
from distlm.config.merge import (Origins, apply_override, deep_merge, parse_override,
                                 record_origins, source_lookup)
from distlm.config.schema import JobSpec
from distlm.config.textio import read_text, resolve_relative, write_text
from distlm.config.typecheck import SourceOf, build_dataclass, to_plain
from distlm.config.validate import validate_job

EXTENDS = "extends"


def _read_yaml(path: str) -> Dict[str, Any]:
    try:
        text = read_text(path)
    except (OSError, ValueError) as err:
        raise SpecError(path, "", f"cannot read the spec file: {err}") from None
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SpecError(path, "", f"invalid YAML: {err}") from None
    if tree is None:
        return {}
    if not isinstance(tree, dict):
        raise SpecError(path, "", f"expected a mapping at the top level, got {type(tree).__name__}")
    return tree


def _bases(path: str, tree: Mapping[str, Any]) -> Sequence[str]:
    bases = tree.get(EXTENDS)
    if bases is None:
        return []
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) and b for b in bases):
        raise SpecError(path, EXTENDS, f"expected a relative path or a list of them, got {bases!r}")
    return [resolve_relative(path, b) for b in bases]


def load_raw(path: str, _chain: Tuple[str, ...] = ()) -> Tuple[Dict[str, Any], Origins]:
    """The merged plain tree of ``path`` and its ``extends`` chain, with provenance."""
    path = str(path)
    if path in _chain:
        cycle = " -> ".join(_chain + (path,))
        raise SpecError(_chain[-1], EXTENDS, f"extends cycle: {cycle}")
    tree = _read_yaml(path)
    merged: Dict[str, Any] = {}
    origins: Origins = {}
    for base in _bases(path, tree):
        try:
            base_tree, base_origins = load_raw(base, _chain + (path,))
        except SpecError as err:
            if err.key == "" and err.source == base:  # unreadable base: blame the extends line
                raise SpecError(path, EXTENDS, f"base {base!r}: {err.problem}") from None
            raise
        merged = deep_merge(merged, base_tree)
        origins.update(base_origins)
    own = {k: v for k, v in tree.items() if k != EXTENDS}
    merged = deep_merge(merged, own)
    origins.update(record_origins(own, path))
    return merged, origins


def spec_from_dict(tree: Mapping[str, Any], source: str = "<dict>", *,
                   source_of: SourceOf | None = None, validate: bool = True) -> JobSpec:
    """Type-check a plain tree into a `JobSpec` (and apply the cross-field rules)."""
    lookup = source_of or (lambda key: source)
    spec = build_dataclass(JobSpec, tree, "", lookup)
    return validate_job(spec, lookup) if validate else spec


def spec_to_dict(spec: JobSpec) -> Dict[str, Any]:
    """Plain builtins (tuples as lists); ``spec_from_dict(spec_to_dict(s)) == s``."""
    return to_plain(spec)


def load_job(path: str, overrides: Sequence[str] = ()) -> JobSpec:
    """Read ``path`` (resolving ``extends:``), apply ``key=value`` overrides, check."""
    path = str(path)
    tree, origins = load_raw(path)
    if EXTENDS in tree:  # only possible through an override; never part of the schema
        raise SpecError(path, EXTENDS, "cannot be overridden")
    return _with_overrides(tree, origins, overrides, path)


def job_from_dict(tree: Mapping[str, Any], overrides: Sequence[str] = (), source: str = "<dict>") -> JobSpec:
    """A spec held as a dict (a checkpoint's ``spec``), with ``key=value`` overrides, checked."""
    return _with_overrides(copy.deepcopy(dict(tree)), record_origins(tree, source), overrides, source)


def _with_overrides(tree: Dict[str, Any], origins: Origins, overrides: Sequence[str], path: str) -> JobSpec:
    for text in overrides:
        where = f"{path} (override {text})"
        parts, value = parse_override(text, where)
        tree = apply_override(tree, parts, value, where)
        key = ".".join(parts)
        origins[key] = where
        if isinstance(value, Mapping):
            origins.update(record_origins(value, where, key))
    return spec_from_dict(tree, path, source_of=source_lookup(origins, path))


def dump_job(spec: JobSpec) -> str:
    """The resolved spec as YAML text (sections in schema order)."""
    header = "# Resolved job spec written by distlm.config.save_job; load with distlm.config.load_job.\n"
    return header + yaml.safe_dump(spec_to_dict(spec), sort_keys=False, default_flow_style=False)


def save_job(spec: JobSpec, path: str) -> None:
    """Write the resolved ``spec`` to ``path`` (local or s3://) as YAML."""
    write_text(str(path), dump_job(spec))
