"""``prepare`` driven by a job spec: each of its data sources into ``DST/<role>``."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional, Sequence, Tuple

from distlm.data.fs import join, resolve, to_uri

ROLES = ("labelled", "unlabelled", "test")


def job_sources(path: str, overrides: Sequence[str] = ()) -> Tuple[List[Tuple[str, Dict[str, Any]]], Dict[str, Any], Any]:
    """``([(role, source spec), ...], storage, spec)`` from a job YAML.

    Roles are ``labelled``, ``unlabelled`` and ``test`` (those the spec sets); a source
    spec is ``{"format", "path", **options}`` as ``distlm.data`` readers take it.
    """
    from distlm.config import load_job

    spec = load_job(path, overrides)
    data = spec.data
    storage = {k: v for k, v in dataclasses.asdict(data.storage).items() if v not in (None, False)}
    sources = []
    for role in ROLES:
        src = getattr(data, role, None)
        if src is not None:
            sources.append((role, {"format": src.format, "path": src.path, **dict(src.options)}))
    return sources, storage, spec


def role_output(output: str, role: str, storage: Optional[Dict[str, Any]] = None) -> str:
    fs, root = resolve(output, storage)
    return to_uri(fs, join(fs, root, role))
