"""KubeRay manifests in k8s/: schema-valid, consistent with the job specs, no secrets.

Every RayCluster/RayJob (base files and every kustomization rendered with its patches)
is validated against the v1 openAPIV3Schema of the KubeRay CRDs in shared/schemas, with
unknown fields refused; core objects go through kubernetes-validate.
"""
from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Tuple

import jsonschema
import pytest
import yaml

import cluster_jobs as cj
import deploy_manifests as dm

RENDERED = dm.all_renderings()
RAY_DOCS = [(label, d) for label, d in RENDERED if d["kind"] in dm.SCHEMA_FILES]
CORE_DOCS = [(label, d) for label, d in RENDERED if d["apiVersion"] in ("v1", "networking.k8s.io/v1")]
# (label, RayJob, every document of its kustomization): the ConfigMaps it mounts included
ROOT_JOBS = [(f"{root.name}:{d['metadata']['name']}", d, docs)
             for root in dm.kustomize_roots()
             for docs in [dm.render_kustomization(root)] for d in docs if d["kind"] == "RayJob"]
IDS = lambda pairs: [label for label, _ in pairs]  # noqa: E731


def _errors(doc: Dict[str, Any]) -> List[str]:
    validator = jsonschema.Draft7Validator(dm.crd_schema(doc["kind"]))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in validator.iter_errors(doc)]


def test_renderings_cover_base_and_overlay() -> None:
    roots = {p.relative_to(dm.REPO).as_posix() for p in dm.kustomize_roots()}
    assert {"k8s/base", "k8s/overlays/cpu-small"} <= roots
    names = {(d["kind"], d["metadata"]["name"]) for _, d in RENDERED}
    for expected in [("RayCluster", "distlm"), ("RayJob", "distlm-rafdb"),
                     ("RayJob", "distlm-emotionet"), ("ConfigMap", "distlm-jobs"),
                     ("PodMonitor", "distlm"), ("Secret", "distlm-s3")]:
        assert expected in names


@pytest.mark.parametrize("label,doc", RAY_DOCS, ids=IDS(RAY_DOCS))
def test_ray_resources_match_kuberay_v1_schema(label: str, doc: Dict[str, Any]) -> None:
    assert doc["apiVersion"] == "ray.io/v1", label
    assert _errors(doc) == [], label


def test_schema_validation_refuses_typos_and_bad_types() -> None:
    (_, cluster) = next((lb, d) for lb, d in RAY_DOCS if d["kind"] == "RayCluster")
    typo = copy.deepcopy(cluster)
    typo["spec"]["workerGroupSpecs"][0]["minReplica"] = 1
    assert _errors(typo), "an unknown field must be refused"
    wrong = copy.deepcopy(cluster)
    wrong["spec"]["workerGroupSpecs"][0]["maxReplicas"] = "four"
    assert _errors(wrong), "a string where an integer belongs must be refused"


CORE_FIELDS = {"apiVersion", "kind", "metadata", "data", "stringData", "type", "spec"}


def validate_core(doc: Dict[str, Any]) -> None:
    """kubernetes-validate (strict) when installed, plus the basic shape kubectl insists on."""
    try:
        import kubernetes_validate as kv
    except ImportError:
        kv = None
    if kv is not None:
        kv.validate(doc, kv.latest_version(), strict=True)
    name = doc.get("metadata", {}).get("name", "")
    if set(doc) - CORE_FIELDS:
        raise ValueError(f"{name}: unknown top-level fields {sorted(set(doc) - CORE_FIELDS)}")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name):
        raise ValueError(f"bad metadata.name {name!r}")
    for key in ("data", "stringData"):
        if not all(isinstance(v, str) for v in (doc.get(key) or {}).values()):
            raise ValueError(f"{name}: {key} values must be strings")


@pytest.mark.parametrize("label,doc", CORE_DOCS, ids=IDS(CORE_DOCS))
def test_core_objects_are_valid_kubernetes(label: str, doc: Dict[str, Any]) -> None:
    validate_core(doc)


def test_core_validation_rejects_a_broken_object() -> None:
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": 1}}
    with pytest.raises(Exception):
        validate_core(bad)


def test_podmonitor_scrapes_the_trainer_port_of_distlm_pods() -> None:
    for label, mon in [(lb, d) for lb, d in RENDERED if d["kind"] == "PodMonitor"]:
        assert mon["apiVersion"] == "monitoring.coreos.com/v1", label
        labels = mon["spec"]["selector"]["matchLabels"]
        ports = {e["port"] for e in mon["spec"]["podMetricsEndpoints"]}
        assert "distlm-metrics" in ports, label
        for _, doc in RAY_DOCS:
            for group, tpl in dm.pod_templates(dm.cluster_spec(doc)):
                assert labels.items() <= tpl["metadata"]["labels"].items(), (label, group)
                named = {p["name"] for c in tpl["spec"]["containers"] for p in c.get("ports", [])}
                assert "distlm-metrics" in named, (doc["metadata"]["name"], group)


@pytest.mark.parametrize("label,doc", RAY_DOCS, ids=IDS(RAY_DOCS))
def test_pods_have_shm_and_prometheus_annotations(label: str, doc: Dict[str, Any]) -> None:
    spec = dm.cluster_spec(doc)
    assert spec["enableInTreeAutoscaling"] is True, label
    for group, tpl in dm.pod_templates(spec):
        vols = {v["name"]: v for v in tpl["spec"]["volumes"]}
        mounts = {m["mountPath"]: m["name"] for c in tpl["spec"]["containers"]
                  for m in c.get("volumeMounts", [])}
        assert "/dev/shm" in mounts, (label, group)
        assert vols[mounts["/dev/shm"]]["emptyDir"]["medium"] == "Memory", (label, group)
        ann = tpl["metadata"]["annotations"]
        assert ann["prometheus.io/scrape"] == "true", (label, group)
    for g in spec["workerGroupSpecs"]:
        assert 0 <= g["minReplicas"] <= g["replicas"] <= g["maxReplicas"], (label, g["groupName"])


def _driver_spec(doc: Dict[str, Any], docs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """``scaling``/``telemetry`` of the job file the RayJob's driver reads on its cluster
    (the distlm-jobs ConfigMap's variant of the card), validated by the trainer's loader."""
    with tempfile.TemporaryDirectory() as tmp:
        path, overrides = cj.driver_job(doc, docs, Path(tmp),
                                        strip_crop_keys=not cj.schema_has_crop_keys())
        return dm.load_spec(path, overrides)


@pytest.mark.parametrize("label,doc,docs", ROOT_JOBS, ids=[lb for lb, _, _ in ROOT_JOBS])
def test_rayjob_runs_a_card_whose_cluster_variant_loads(label: str, doc: Dict[str, Any],
                                                        docs: List[Dict[str, Any]]) -> None:
    module, job, overrides, flags = dm.parse_entrypoint(doc["spec"]["entrypoint"])
    assert (module, overrides, flags) == ("distlm.train", [], {}), label
    assert (dm.REPO / job).parent == dm.JOBS and (dm.REPO / job).is_file(), label
    _driver_spec(doc, docs)  # raises (naming the file) if missing or invalid
    spec = doc["spec"]
    assert ("rayClusterSpec" in spec) != ("clusterSelector" in spec), label
    if "rayClusterSpec" in spec:
        assert spec["shutdownAfterJobFinishes"] is True, label


def test_entrypoint_parsing() -> None:
    mod, job, ov, flags = dm.parse_entrypoint(
        "python -m distlm.prepare jobs/x.yaml --output s3://b/o --set a.b=1 --align --actors 2")
    assert (mod, job, ov) == ("distlm.prepare", "jobs/x.yaml", ["a.b=1"])
    assert flags == {"--output": "s3://b/o", "--align": "", "--actors": "2"}
    with pytest.raises(ValueError):
        dm.parse_entrypoint("bash -c 'python train.py'")
    with pytest.raises(ValueError):
        dm.parse_entrypoint("python -m distlm.train jobs/x.yaml stray")
    with pytest.raises(ValueError, match="--set"):
        dm.parse_entrypoint("python -m distlm.train jobs/x.yaml train.epochs=3")


def _gpu(res: Dict[str, Any]) -> float:
    return dm.quantity(res.get("nvidia.com/gpu", 0))


def _train_specs(docs: List[Dict[str, Any]]) -> List[Tuple[str, Dict[str, Any]]]:
    return [(d["metadata"]["name"], _driver_spec(d, docs)) for d in docs if d["kind"] == "RayJob"]


def _check_fits(where: str, cluster: Dict[str, Any], spec: Dict[str, Any]) -> None:
    """Some worker group holds one Train worker per pod, for all num_workers workers."""
    sc = spec["scaling"]
    gpus = sc["gpus_per_worker"] if sc["use_gpu"] else 0
    fitting = []
    for g in cluster["workerGroupSpecs"]:
        req, lim = dm.container_resources(g["template"])
        assert _gpu(req) == _gpu(lim), f"{where}/{g['groupName']}: GPU requests != limits"
        if _gpu(lim) == gpus and dm.quantity(lim.get("cpu", 0)) == sc["cpus_per_worker"]:
            fitting.append(g)
    assert fitting, (f"{where}: no worker group with cpu={sc['cpus_per_worker']} and "
                     f"nvidia.com/gpu={gpus} (scaling: {sc})")
    assert max(g["maxReplicas"] for g in fitting) >= sc["num_workers"], where
    if not sc["use_gpu"]:
        for grp, tpl in dm.pod_templates(cluster):
            assert all(_gpu(r) == 0 for r in dm.container_resources(tpl)), (where, grp)
    port = spec["telemetry"]["metrics_port"]
    assert port > 0, f"{where}: the PodMonitor scrapes a fixed port; set telemetry.metrics_port=8000"
    if port:
        for grp, tpl in dm.pod_templates(cluster):
            assert tpl["metadata"]["annotations"]["prometheus.io/port"] == str(port), (where, grp)
            ports = {p["name"]: p["containerPort"] for c in tpl["spec"]["containers"]
                     for p in c.get("ports", [])}
            assert ports.get("distlm-metrics") == port, (where, grp)


def test_training_clusters_match_their_specs_scaling() -> None:
    checked = 0
    for label, doc, docs in ROOT_JOBS:
        _check_fits(label, doc["spec"]["rayClusterSpec"], _driver_spec(doc, docs))
        checked += 1
    assert checked >= 4  # rafdb + emotionet, in base and in the overlay


@pytest.mark.parametrize("root", dm.kustomize_roots(), ids=lambda p: str(p.relative_to(dm.REPO)))
def test_long_lived_raycluster_fits_every_training_job(root: Path) -> None:
    docs = dm.render_kustomization(root)
    clusters = [d for d in docs if d["kind"] == "RayCluster"]
    specs = _train_specs(docs)
    assert clusters and specs
    for label, spec in specs:
        _check_fits(f"{root.name} RayCluster vs {label}", clusters[0]["spec"], spec)


def test_scaling_check_catches_a_mismatch() -> None:
    (label, doc, docs) = next(j for j in ROOT_JOBS if j[0].startswith("base:") and "rafdb" in j[0])
    spec = _driver_spec(doc, docs)
    spec["scaling"] = {**spec["scaling"], "num_workers": 99}
    with pytest.raises(AssertionError):
        _check_fits(label, doc["spec"]["rayClusterSpec"], spec)
    spec["scaling"] = {**spec["scaling"], "num_workers": 1, "cpus_per_worker": 4}
    with pytest.raises(AssertionError, match="cpu=4"):
        _check_fits(label, doc["spec"]["rayClusterSpec"], spec)


def test_overlay_is_cpu_only_with_two_workers() -> None:
    docs = dm.render_kustomization(dm.K8S / "overlays" / "cpu-small")
    for doc in [d for d in docs if d["kind"] in dm.SCHEMA_FILES]:
        spec = dm.cluster_spec(doc)
        assert "nvidia.com/gpu" not in yaml.safe_dump(spec), doc["metadata"]["name"]
        assert all(g["maxReplicas"] == 2 for g in spec["workerGroupSpecs"]), doc["metadata"]["name"]


# --- credentials ------------------------------------------------------------------------

AWS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
SECRET_LITERAL = re.compile(
    r"(?i)aws_secret_access_key[\"']?\s*[:=]\s*[\"']?([^\s\"'#,}]+)")
PLACEHOLDER = re.compile(r"^(REPLACE_ME|\$\{?[A-Z_]+\}?|<[^>]+>|\.\.\.)$")


def credential_findings(text: str) -> List[str]:
    found = [m.group(0) for m in AWS_KEY_ID.finditer(text)]
    found += [m.group(0) for m in SECRET_LITERAL.finditer(text)
              if not PLACEHOLDER.match(m.group(1))]
    return found


def test_credential_scan_can_fail() -> None:
    assert credential_findings("key: AKIAABCDEFGHIJKLMNOP")
    assert credential_findings("aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert credential_findings('AWS_SECRET_ACCESS_KEY="abc123"')
    assert not credential_findings("AWS_SECRET_ACCESS_KEY: REPLACE_ME")
    assert not credential_findings('--from-literal=AWS_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"')


DEPLOY_FILES = sorted(p for p in [*dm.K8S.rglob("*"), *(dm.REPO / "cluster").rglob("*"),
                                  dm.REPO / "Dockerfile", dm.REPO / ".dockerignore",
                                  dm.REPO / "docs" / "deploy.md"] if p.is_file())


@pytest.mark.parametrize("path", DEPLOY_FILES, ids=lambda p: str(p.relative_to(dm.REPO)))
def test_no_credentials_in_deploy_files(path: Path) -> None:
    assert credential_findings(path.read_text(errors="replace")) == [], path


def test_applied_manifests_take_secrets_from_secret_refs_only() -> None:
    for label, doc in RENDERED:
        if label.endswith("-secret.example.yaml"):
            continue
        assert doc["kind"] != "Secret", f"{label}: a Secret must not be applied from a file"
        text = yaml.safe_dump(doc)
        for m in re.finditer(r"- name: (\S*(SECRET|KEY|TOKEN|PASSWORD)\S*)\n\s+value:", text):
            pytest.fail(f"{label}: env {m.group(1)} has an inline value; use secretKeyRef")
    refs = [e for _, d in RAY_DOCS for _, t in dm.pod_templates(dm.cluster_spec(d))
            for c in t["spec"]["containers"] for e in c.get("envFrom", []) if "secretRef" in e]
    assert refs and all(r["secretRef"]["name"] == "distlm-s3" for r in refs)


def test_example_secret_is_not_in_any_kustomization() -> None:
    for root in dm.kustomize_roots():
        (kust,) = dm.load_docs(root / "kustomization.yaml")
        assert not any("secret" in r for r in kust.get("resources", [])), root


def test_trainer_exporter_listens_beyond_loopback_when_it_can() -> None:
    """Prometheus scrapes the pod IP: once the spec has ``telemetry.host`` (the trainer
    already reads it), every training RayJob's job file must set a non-loopback address."""
    from distlm.config import TelemetrySpec

    if "host" not in TelemetrySpec.__dataclass_fields__:
        return  # nothing to set yet: the exporter binds 127.0.0.1 (see docs/deploy.md)
    for label, doc, docs in ROOT_JOBS:
        host = _driver_spec(doc, docs)["telemetry"].get("host")
        assert host not in (None, "127.0.0.1", "localhost"), label
