"""The crop stage's summary: counts over every committed manifest part, in a Ray task."""
from __future__ import annotations

from typing import Any, Dict

import pyarrow as pa

from distlm.prepare.compact import committed, read_manifests
from distlm.prepare.layout import Output, is_part
from distlm.prepare.records import OUTCOMES, manifest_counts

_COLUMNS = ["outcome", "reason", "faces"]


def summarise(output: str, storage: Dict[str, Any], inputs: int) -> Dict[str, Any]:
    """``{"inputs", "shards", "written", "outcomes", "reasons", "faces_found"}`` of
    ``output``; raises if the manifest does not list exactly ``inputs`` inputs."""
    out = Output(output, storage, create=False)
    parts = sorted(committed(out))
    tables = read_manifests(out, parts, _COLUMNS)
    manifest = pa.concat_tables(tables) if tables else pa.table(
        {"outcome": pa.array([], pa.string()), "reason": pa.array([], pa.string()), "faces": pa.array([], pa.int32())})
    if manifest.num_rows != inputs:
        raise RuntimeError(f"{out.uri}: manifest lists {manifest.num_rows} inputs, expected {inputs}")
    c = manifest_counts(manifest)
    outcomes = {o: c["outcomes"].get(o, 0) for o in OUTCOMES}
    shards = sum(1 for n in out.listdir() if is_part(n))
    return {"inputs": inputs, "shards": shards, "written": outcomes["ok"] + outcomes["multiple_faces"],
            "outcomes": outcomes, "reasons": c["reasons"], "faces_found": c["faces_found"]}


def remote_summary(output: str, storage: Dict[str, Any], inputs: int) -> Dict[str, Any]:
    """:func:`summarise` in a Ray task (it reads every manifest part)."""
    from distlm.ray_local import run_task

    return run_task(summarise, output, storage, inputs, num_cpus=1)
