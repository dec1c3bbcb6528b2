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


JOB_FILE = "job.yaml"


def prepared_job(spec: Any, output: str, roles: Sequence[str], storage: Optional[Dict[str, Any]] = None) -> Any:
    """``spec`` with each prepared role's source replaced by its crops,
    ``{format: parquet, path: DST/<role>}`` (the reader options of the image source do
    not apply to shards) and ``storage``'s endpoint, if any, as ``data.storage.endpoint_url``;
    everything else, the ``--set`` overrides included, unchanged."""
    from distlm.config.schema_data import SourceSpec

    shards = {role: SourceSpec(format="parquet", path=role_output(output, role, storage), options={})
              for role in roles}
    endpoint = (storage or {}).get("endpoint_url")
    if endpoint:  # the endpoint the crops were written to (--endpoint-url) is where they are read
        shards["storage"] = dataclasses.replace(spec.data.storage, endpoint_url=endpoint)
    return dataclasses.replace(spec, data=dataclasses.replace(spec.data, **shards))


def write_prepared_job(spec: Any, output: str, roles: Sequence[str],
                       storage: Optional[Dict[str, Any]] = None) -> str:
    """Write :func:`prepared_job` as ``DST/job.yaml`` (local or s3://); return its path,
    ready for ``python -m distlm.train DST/job.yaml``."""
    from distlm.config import dump_job
    from distlm.data.fs import write_text

    fs, root = resolve(output, storage)
    return write_text(to_uri(fs, join(fs, root, JOB_FILE)), dump_job(prepared_job(spec, output, roles, storage)),
                      storage)
