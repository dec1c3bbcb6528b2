"""The job file a RayJob's driver reads on the cluster, rebuilt from a rendering.

The head container runs in its ``workingDir`` with the ``distlm-jobs`` ConfigMap
mounted at ``<workingDir>/jobs``; the image holds the cards at
``/home/ray/distlm/jobs`` (the Dockerfile's WORKDIR).  `materialize` writes the
ConfigMap's files to a folder, the image's card paths mapped to this checkout's
``jobs/``, so that a test loads exactly the file the driver would.

The crop stage's keys (``data.cache``, ``data.crop``) are checked here against the
given design until the trainer's schema has them; `strip_crop_keys` then lets the
trainer's loader validate the rest of the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

import deploy_manifests as dm

IMAGE_REPO = "/home/ray/distlm"
JOBS_CONFIGMAP = "distlm-jobs"
CROP_KEYS = {"detector", "margin", "choose", "align", "max_side", "detect_batch",
             "min_actors", "max_actors", "cpus_per_actor", "gpus_per_actor",
             "shard_size", "order", "alpha"}
Doc = Dict[str, Any]


def schema_has_crop_keys() -> bool:
    """True once the trainer's ``data`` section knows ``cache`` and ``crop``."""
    from distlm.config.schema_data import DataSpec

    return {"cache", "crop"} <= set(DataSpec.__dataclass_fields__)


def head_container(cluster: Doc) -> Doc:
    (ctr,) = [c for c in cluster["headGroupSpec"]["template"]["spec"]["containers"]
              if c["name"].startswith("ray-")]
    return ctr


def jobs_configmap(cluster: Doc, docs: List[Doc]) -> Tuple[str, Doc]:
    """(head workingDir, the ConfigMap mounted at workingDir/jobs) of a cluster spec."""
    ctr = head_container(cluster)
    workdir = ctr.get("workingDir")
    if not workdir:
        raise AssertionError("the head container sets no workingDir")
    volumes = {v["name"]: v for v in cluster["headGroupSpec"]["template"]["spec"]["volumes"]}
    mounts = [m for m in ctr.get("volumeMounts", []) if m["mountPath"] == f"{workdir}/jobs"]
    if not mounts or "configMap" not in volumes[mounts[0]["name"]]:
        raise AssertionError(f"no ConfigMap is mounted at {workdir}/jobs")
    name = volumes[mounts[0]["name"]]["configMap"]["name"]
    found = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name]
    if not found:
        raise AssertionError(f"ConfigMap {name} (mounted at {workdir}/jobs) is not in the rendering")
    return workdir, found[0]


def _rewrite(tree: Doc, strip: bool) -> Doc:
    bases = tree.get("extends", [])
    bases = [bases] if isinstance(bases, str) else bases
    mapped = [str(dm.REPO / b[len(IMAGE_REPO) + 1:]) if b.startswith(IMAGE_REPO + "/") else b
              for b in bases]
    if bases:
        tree["extends"] = mapped
    if strip and isinstance(tree.get("data"), dict):
        tree["data"] = {k: v for k, v in tree["data"].items() if k not in ("cache", "crop")}
    return tree


def materialize(configmap: Doc, folder: Path, strip_crop_keys: bool = False) -> Path:
    """Write the ConfigMap's files to ``folder/jobs``; returns that folder."""
    out = folder / "jobs"
    out.mkdir(parents=True, exist_ok=True)
    for key, text in configmap["data"].items():
        tree = yaml.safe_load(text) or {}
        (out / key).write_text(yaml.safe_dump(_rewrite(tree, strip_crop_keys), sort_keys=False))
    return out


def driver_job(doc: Doc, docs: List[Doc], folder: Path,
               strip_crop_keys: bool = False) -> Tuple[Path, List[str]]:
    """(job file the RayJob's driver reads, its overrides), materialized under ``folder``."""
    _, job, overrides, _ = dm.parse_entrypoint(doc["spec"]["entrypoint"])
    _, configmap = jobs_configmap(doc["spec"]["rayClusterSpec"], docs)
    if not job.startswith("jobs/") or Path(job).name not in configmap["data"]:
        raise AssertionError(f"{job} is not a file of ConfigMap {configmap['metadata']['name']}")
    materialize(configmap, folder, strip_crop_keys)
    return folder / job, overrides


def merged_tree(path: Path) -> Doc:
    """The job file with its ``extends`` chain merged (plain YAML, no validation)."""
    return dm._raw_spec(path)


def crop_problems(tree: Doc) -> List[str]:
    """``data.cache``/``data.crop`` against the design's keys and types."""
    data = tree.get("data", {})
    crop: Optional[Doc] = data.get("crop")
    problems = []
    if not isinstance(data.get("cache"), (str, type(None))):
        problems.append(f"data.cache is not a path: {data.get('cache')!r}")
    if crop is None:
        return problems
    unknown = set(crop) - CROP_KEYS
    if unknown:
        problems.append(f"data.crop has unknown keys {sorted(unknown)}")
    for key in ("min_actors", "max_actors", "shard_size", "detect_batch", "max_side"):
        if crop.get(key) is not None and not (isinstance(crop[key], int) and crop[key] > 0):
            problems.append(f"data.crop.{key} is not a positive integer: {crop[key]!r}")
    for key in ("cpus_per_actor", "gpus_per_actor"):
        if key in crop and not (isinstance(crop[key], (int, float)) and crop[key] >= 0):
            problems.append(f"data.crop.{key} is not a number >= 0: {crop[key]!r}")
    return problems
