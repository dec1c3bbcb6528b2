"""Helpers for the deployment tests: locate files, render kustomizations, load schemas.

Pure functions, no cluster needed.  The kustomize rendering covers what k8s/ uses
(``resources``, JSON 6902 ``patches`` with a ``target``, a ``configMapGenerator`` from
files without the name hash); anything else in a kustomization raises, so a new
kustomize feature cannot be silently ignored.
"""
from __future__ import annotations

import copy
import functools
import re
import shlex
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
JOBS = REPO / "jobs"
SCHEMA_FILES = {"RayCluster": "ray.io_rayclusters.yaml", "RayJob": "ray.io_rayjobs.yaml"}
Doc = Dict[str, Any]


# --- files ----------------------------------------------------------------------------

def shared_dir() -> Path:
    """``shared/`` beside the checkout (CI: a fresh clone with shared/ at ../shared)."""
    for cand in (REPO.parent / "shared", REPO / "shared"):
        if (cand / "schemas" / "kuberay").is_dir():
            return cand
    raise FileNotFoundError(
        f"shared/schemas/kuberay not found at {REPO.parent / 'shared'} or {REPO / 'shared'}: "
        "the KubeRay CRD schemas are needed to validate k8s/ manifests")


def load_docs(path: Path) -> List[Doc]:
    """All YAML documents of a file (empty ones dropped); errors name the file."""
    try:
        docs = list(yaml.safe_load_all(path.read_text()))
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: invalid YAML: {err}") from None
    out = [d for d in docs if d is not None]
    for d in out:
        if not isinstance(d, dict):
            raise ValueError(f"{path}: expected a mapping per document, got {type(d).__name__}")
    return out


# --- kustomize (the subset k8s/ uses) -------------------------------------------------

SUPPORTED_KUSTOMIZE_KEYS = {"apiVersion", "kind", "resources", "patches",
                            "configMapGenerator", "generatorOptions"}


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _walk(doc: Any, pointer: str, where: str) -> Tuple[Any, str]:
    """Parent container and last key of a JSON pointer (RFC 6901)."""
    if not pointer.startswith("/"):
        raise ValueError(f"{where}: JSON pointer must start with '/': {pointer!r}")
    parts = [_unescape(p) for p in pointer.split("/")[1:]]
    node = doc
    for part in parts[:-1]:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError):
            raise ValueError(f"{where}: path {pointer!r} does not exist (at {part!r})") from None
    return node, parts[-1]


def apply_json6902(doc: Doc, ops: Sequence[Mapping[str, Any]], where: str) -> Doc:
    """Apply JSON 6902 ``add``/``replace``/``remove`` operations to a copy of ``doc``."""
    out = copy.deepcopy(doc)
    for op in ops:
        kind, pointer = op.get("op"), op.get("path", "")
        parent, key = _walk(out, pointer, where)
        if isinstance(parent, list):
            idx = len(parent) if key == "-" else int(key)
            if kind == "add":
                parent.insert(idx, copy.deepcopy(op["value"]))
            elif kind in ("replace", "remove"):
                if not 0 <= idx < len(parent):
                    raise ValueError(f"{where}: {kind} {pointer!r}: index out of range")
                if kind == "remove":
                    del parent[idx]
                else:
                    parent[idx] = copy.deepcopy(op["value"])
            else:
                raise ValueError(f"{where}: unsupported op {kind!r}")
            continue
        if kind in ("replace", "remove") and key not in parent:
            raise ValueError(f"{where}: {kind} {pointer!r}: no such key")
        if kind in ("add", "replace"):
            parent[key] = copy.deepcopy(op["value"])
        elif kind == "remove":
            del parent[key]
        else:
            raise ValueError(f"{where}: unsupported op {kind!r}")
    return out


def _matches(doc: Doc, target: Mapping[str, Any]) -> bool:
    group, _, version = str(doc.get("apiVersion", "")).rpartition("/")
    checks = {"group": group, "version": version, "kind": doc.get("kind"),
              "name": doc.get("metadata", {}).get("name")}
    return all(re.fullmatch(str(target[k]), str(v or "")) for k, v in checks.items() if k in target)


def render_kustomization(folder: Path) -> List[Doc]:
    """The documents ``kubectl kustomize folder`` would print, for the subset used here."""
    kfile = folder / "kustomization.yaml"
    (kust,) = load_docs(kfile)
    unknown = set(kust) - SUPPORTED_KUSTOMIZE_KEYS
    if unknown:
        raise ValueError(f"{kfile}: keys {sorted(unknown)} are not handled by this renderer")
    docs: List[Doc] = []
    for res in kust.get("resources", []):
        path = (folder / res).resolve()
        docs += render_kustomization(path) if path.is_dir() else load_docs(path)
    docs = _generate_configmaps(folder, kust, docs)
    for patch in kust.get("patches", []):
        ppath = folder / patch["path"]
        ops = yaml.safe_load(ppath.read_text())
        if not isinstance(ops, list):
            raise ValueError(f"{ppath}: expected a JSON 6902 list of operations")
        hits = [i for i, d in enumerate(docs) if _matches(d, patch.get("target", {}))]
        if not hits:
            raise ValueError(f"{kfile}: patch {patch['path']} matches no resource")
        for i in hits:
            docs[i] = apply_json6902(docs[i], ops, str(ppath))
    return docs


def _generate_configmaps(folder: Path, kust: Mapping[str, Any], docs: List[Doc]) -> List[Doc]:
    """``configMapGenerator`` entries (``files``; behaviors create and merge), as kustomize
    applies them after ``resources``.  The name hash must be off: KubeRay specs naming
    the ConfigMap are not rewritten by kustomize."""
    gens = kust.get("configMapGenerator", [])
    opts = kust.get("generatorOptions", {})
    where = folder / "kustomization.yaml"
    if gens and opts.get("disableNameSuffixHash") is not True:
        raise ValueError(f"{where}: configMapGenerator needs generatorOptions.disableNameSuffixHash: true")
    if set(opts) - {"disableNameSuffixHash", "labels"}:
        raise ValueError(f"{where}: generatorOptions {sorted(set(opts))} are not handled by this renderer")
    out = list(docs)
    for gen in gens:
        if set(gen) - {"name", "files", "behavior"}:
            raise ValueError(f"{where}: configMapGenerator keys {sorted(gen)} are not handled by this renderer")
        data = {}
        for entry in gen["files"]:
            key, _, rel = entry.rpartition("=") if "=" in entry else ("", "", entry)
            data[key or Path(rel).name] = (folder / rel).read_text()
        found = [i for i, d in enumerate(out) if d["kind"] == "ConfigMap"
                 and d["metadata"]["name"] == gen["name"]]
        behavior = gen.get("behavior", "create")
        if behavior == "merge" and found:
            doc = copy.deepcopy(out[found[0]])
            doc["data"] = {**doc.get("data", {}), **data}
            doc["metadata"].setdefault("labels", {}).update(opts.get("labels", {}))
            out[found[0]] = doc
        elif behavior == "create" and not found:
            meta = {"name": gen["name"], **({"labels": dict(opts["labels"])} if opts.get("labels") else {})}
            out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data})
        else:
            raise ValueError(f"{where}: configMapGenerator {gen['name']}: behavior {behavior!r} "
                             f"with {len(found)} existing ConfigMap(s)")
    return out


def kustomize_roots() -> List[Path]:
    return sorted(p.parent for p in K8S.rglob("kustomization.yaml"))


def all_renderings() -> List[Tuple[str, Doc]]:
    """(label, doc) for every document of every kustomization and every file in k8s/base."""
    out: List[Tuple[str, Doc]] = []
    for root in kustomize_roots():
        out += [(f"{root.relative_to(REPO)}:{d['kind']}/{d['metadata']['name']}", d)
                for d in render_kustomization(root)]
    for f in sorted((K8S / "base").glob("*.yaml")):
        if f.name != "kustomization.yaml":
            out += [(f"{f.relative_to(REPO)}", d) for d in load_docs(f)]
    return out


# --- KubeRay schemas -------------------------------------------------------------------

def _strict(schema: Any) -> Any:
    """Refuse unknown fields like ``kubectl apply --validate=strict`` does."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if ("properties" in out and "additionalProperties" not in out
                and not out.get("x-kubernetes-preserve-unknown-fields")):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@functools.lru_cache(maxsize=None)
def crd_schema(kind: str, version: str = "v1") -> Dict[str, Any]:
    path = shared_dir() / "schemas" / "kuberay" / SCHEMA_FILES[kind]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open() as fh:
        crd = yaml.load(fh, Loader=loader)  # noqa: S506 -- a safe loader
    for ver in crd["spec"]["versions"]:
        if ver["name"] == version:
            return _strict(ver["schema"]["openAPIV3Schema"])
    raise KeyError(f"{path}: no version {version}")


# --- pods, resources, entrypoints ------------------------------------------------------

def cluster_spec(doc: Doc) -> Optional[Doc]:
    """The RayCluster spec of a RayCluster, or of a RayJob's own cluster (else None)."""
    return doc["spec"] if doc["kind"] == "RayCluster" else doc["spec"].get("rayClusterSpec")


def pod_templates(spec: Doc) -> List[Tuple[str, Doc]]:
    """(group name, pod template) of the head (``head``) and each worker group."""
    out = [("head", spec["headGroupSpec"]["template"])]
    out += [(g["groupName"], g["template"]) for g in spec.get("workerGroupSpecs", [])]
    return out


def quantity(value: Any) -> float:
    """A Kubernetes CPU/GPU quantity (``"4"``, ``500m``, ``1``) as a float."""
    text = str(value)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def container_resources(template: Doc) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    (ctr,) = [c for c in template["spec"]["containers"] if c["name"].startswith("ray-")]
    res = ctr.get("resources", {})
    return res.get("requests", {}), res.get("limits", {})


def parse_entrypoint(entrypoint: str) -> Tuple[str, str, List[str], Dict[str, str]]:
    """``python -m MODULE JOB.yaml [--set key=value | --flag value] ...``.

    Returns (module, job path, overrides, other flags). Every command takes overrides as
    ``--set key=value``; a bare word (the older positional spelling) is refused here.
    """
    argv = shlex.split(entrypoint)
    if len(argv) < 4 or argv[:2] != ["python", "-m"] or argv[3].startswith("-"):
        raise ValueError(f"entrypoint is not 'python -m MODULE JOB.yaml ...': {entrypoint!r}")
    overrides: List[str] = []
    flags: Dict[str, str] = {}
    rest = argv[4:]
    while rest:
        word = rest.pop(0)
        if word.startswith("--"):
            value = rest.pop(0) if rest and not rest[0].startswith("--") else ""
            if word == "--set":
                overrides.append(value)
            else:
                flags[word] = value
        else:
            raise ValueError(f"entrypoint argument {word!r} is not a flag (overrides are --set key=value)")
    bad = [o for o in overrides if "=" not in o]
    if bad:
        raise ValueError(f"entrypoint arguments {bad} are not key=value overrides")
    return argv[2], argv[3], overrides, flags


# --- job specs -------------------------------------------------------------------------

def _deep_merge(base: Dict[str, Any], over: Mapping[str, Any]) -> Dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), dict) else v
    return out


def _raw_spec(path: Path) -> Dict[str, Any]:
    tree = yaml.safe_load(path.read_text()) or {}
    bases = tree.pop("extends", [])
    merged: Dict[str, Any] = {}
    for b in [bases] if isinstance(bases, str) else bases:
        merged = _deep_merge(merged, _raw_spec((path.parent / b).resolve()))
    return _deep_merge(merged, tree)


def load_spec(path: Path, overrides: Iterable[str] = (), use_loader: bool = True) -> Dict[str, Any]:
    """``scaling`` and ``telemetry`` of a job spec as plain dicts.

    Uses ``distlm.config.load_job`` (full validation) when importable, otherwise (or with
    ``use_loader=False``) reads the YAML, resolving ``extends:`` and dotted overrides here,
    over the schema's defaults.
    """
    if not path.is_file():
        raise FileNotFoundError(f"job spec {path} does not exist")
    load_job = None
    if use_loader:
        try:
            from distlm.config import load_job
        except ImportError:
            pass
    if load_job is not None:
        spec = load_job(str(path), list(overrides))
        return {"scaling": dict(vars(spec.scaling)), "telemetry": dict(vars(spec.telemetry))}
    tree = _raw_spec(path)
    for text in overrides:
        key, _, value = text.partition("=")
        node = tree
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = yaml.safe_load(value)
    scaling = {"num_workers": 1, "use_gpu": False, "cpus_per_worker": 1.0,
               "gpus_per_worker": 1.0, "resources_per_worker": {}, **tree.get("scaling", {})}
    return {"scaling": scaling, "telemetry": {"metrics_port": -1, **tree.get("telemetry", {})}}
