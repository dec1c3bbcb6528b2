"""The cluster layout for a job that crops its own faces, then trains.

* the head takes no work: no GPU, ``num-cpus: 0``;
* a worker group ``cpu`` for Ray Data (crop actors, loader reads): no GPU, autoscaled
  from 0, large enough for the crop stage's ``data.crop.max_actors``;
* GPU groups with one GPU per pod and 8 CPU cores per GPU (the loader's figure), the
  Train worker taking the whole pod (``scaling.cpus_per_worker``);
* the in-tree autoscaler on, every group starting from 0 pods;
* each RayJob runs the card's command as is, and the job file its driver reads (the
  distlm-jobs ConfigMap's variant) keeps the card's science and puts the sources,
  ``run.storage_path`` and ``data.cache`` on S3.

Each check returns its problems, and is shown failing on a manifest that breaks it.
"""
from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

import cluster_jobs as cj
import deploy_manifests as dm

CPUS_PER_GPU = 8          # docs/deploy.md: the loader's cores per GPU
DATA_GROUP = "cpu"
CARDS = {"distlm-emotionet": "jobs/emotionet.yaml", "distlm-rafdb": "jobs/rafdb.yaml"}
# What a cluster variant may set over its card: where things are, and the sizes.
VARIANT_KEYS = re.compile(r"^(data\.(labelled|unlabelled|test)\.path|data\.cache|data\.crop(\..+)?"
                          r"|run\.storage_path|scaling\..+|telemetry\..+)$")
ROOTS = {root.relative_to(dm.REPO).as_posix(): dm.render_kustomization(root)
         for root in dm.kustomize_roots()}
CLUSTERS = [(f"{r}:{d['kind']}/{d['metadata']['name']}", dm.cluster_spec(d), docs)
            for r, docs in ROOTS.items() for d in docs if d["kind"] in dm.SCHEMA_FILES]
JOBS = [(f"{r}:{d['metadata']['name']}", d, docs)
        for r, docs in ROOTS.items() for d in docs if d["kind"] == "RayJob"]
Doc = Dict[str, Any]


def _gpu(res: Doc) -> float:
    return dm.quantity(res.get("nvidia.com/gpu", 0))


def layout_problems(cluster: Doc, cpus_per_gpu: float = CPUS_PER_GPU) -> List[str]:
    problems = []
    head = cluster["headGroupSpec"]
    if any(_gpu(r) for r in dm.container_resources(head["template"])):
        problems.append("head: requests a GPU")
    if head["rayStartParams"].get("num-cpus") != "0":
        problems.append("head: num-cpus is not 0 (tasks, actors or Train workers may land there)")
    if cluster.get("enableInTreeAutoscaling") is not True:
        problems.append("the in-tree autoscaler is off")
    groups = {g["groupName"]: g for g in cluster["workerGroupSpecs"]}
    for name, g in groups.items():
        if g["minReplicas"] != 0 or g["maxReplicas"] < 1:
            problems.append(f"{name}: not autoscaled from 0 pods")
        req, lim = dm.container_resources(g["template"])
        if req != lim:
            problems.append(f"{name}: requests != limits")
        gpus = _gpu(lim)
        if gpus and gpus != 1:
            problems.append(f"{name}: {gpus} GPUs per pod, not 1")
        if gpus and dm.quantity(lim["cpu"]) != cpus_per_gpu * gpus:
            problems.append(f"{name}: {lim['cpu']} CPUs for {gpus} GPU, not {cpus_per_gpu} per GPU")
    data = groups.get(DATA_GROUP)
    if data is None:
        problems.append(f"no worker group {DATA_GROUP!r} for Ray Data")
    elif any(_gpu(r) for r in dm.container_resources(data["template"])):
        problems.append(f"{DATA_GROUP}: requests a GPU")
    return problems


def data_capacity(cluster: Doc) -> float:
    """CPUs of the Ray Data group at its largest."""
    (g,) = [g for g in cluster["workerGroupSpecs"] if g["groupName"] == DATA_GROUP]
    return g["maxReplicas"] * dm.quantity(dm.container_resources(g["template"])[1]["cpu"])


def storage_problems(tree: Doc) -> List[str]:
    data = tree["data"]
    where = {f"data.{role}.path": (data.get(role) or {}).get("path", "s3://")
             for role in ("labelled", "unlabelled", "test")}
    where["data.cache"] = data.get("cache")
    where["run.storage_path"] = tree["run"].get("storage_path")
    return [f"{key} is not on S3: {value!r}" for key, value in where.items()
            if not str(value).startswith("s3://")]


def _leaves(tree: Any, prefix: str = "") -> Dict[str, Any]:
    if not isinstance(tree, dict) or not tree:
        return {prefix: tree}
    out: Dict[str, Any] = {}
    for k, v in tree.items():
        out.update(_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def drift_problems(variant: Doc, card: Doc) -> List[str]:
    """Keys the cluster variant sets differently from its card, beyond VARIANT_KEYS."""
    a, b = _leaves(variant), _leaves(card)
    return [f"{k}: {b.get(k)!r} -> {a.get(k)!r}" for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k) and not VARIANT_KEYS.match(k)]


def _variant(doc: Doc, docs: List[Doc]) -> Doc:
    with tempfile.TemporaryDirectory() as tmp:
        path, _ = cj.driver_job(doc, docs, Path(tmp))
        return cj.merged_tree(path)


# --- the layout --------------------------------------------------------------------------

@pytest.mark.parametrize("label,cluster,docs", CLUSTERS, ids=[c[0] for c in CLUSTERS])
def test_head_idle_data_group_without_gpu_autoscaling(label: str, cluster: Doc, docs) -> None:
    assert layout_problems(cluster) == [], label


def test_base_has_a_gpu_group_of_8_cores_per_gpu() -> None:
    for label, cluster, _ in [c for c in CLUSTERS if c[0].startswith("k8s/base:")]:
        gpu = [g for g in cluster["workerGroupSpecs"]
               if _gpu(dm.container_resources(g["template"])[1])]
        assert [g["groupName"] for g in gpu] == ["gpu"], label
        assert dm.quantity(dm.container_resources(gpu[0]["template"])[1]["cpu"]) == CPUS_PER_GPU


def test_layout_check_fails_on_a_broken_cluster() -> None:
    base = next(c for lb, c, _ in CLUSTERS if lb == "k8s/base:RayCluster/distlm")
    broken = copy.deepcopy(base)
    data = next(g for g in broken["workerGroupSpecs"] if g["groupName"] == DATA_GROUP)
    tpl = data["template"]["spec"]["containers"][0]["resources"]
    for part in ("requests", "limits"):
        tpl[part]["nvidia.com/gpu"] = "1"
    assert any(p.startswith(f"{DATA_GROUP}:") for p in layout_problems(broken))
    broken = copy.deepcopy(base)
    gpu = next(g for g in broken["workerGroupSpecs"] if g["groupName"] == "gpu")
    for part in ("requests", "limits"):
        gpu["template"]["spec"]["containers"][0]["resources"][part]["cpu"] = "4"
    assert any("not 8 per GPU" in p for p in layout_problems(broken))
    broken = copy.deepcopy(base)
    broken["headGroupSpec"]["rayStartParams"]["num-cpus"] = "4"
    broken["enableInTreeAutoscaling"] = False
    broken["workerGroupSpecs"][0]["minReplicas"] = 2
    assert len(layout_problems(broken)) == 3
    broken["workerGroupSpecs"] = [g for g in broken["workerGroupSpecs"] if g["groupName"] != DATA_GROUP]
    assert any("for Ray Data" in p for p in layout_problems(broken))


# --- the jobs ----------------------------------------------------------------------------

def test_both_cards_run_in_every_rendering() -> None:
    for root, docs in ROOTS.items():
        assert {d["metadata"]["name"] for d in docs if d["kind"] == "RayJob"} == set(CARDS), root


@pytest.mark.parametrize("label,doc,docs", JOBS, ids=[j[0] for j in JOBS])
def test_rayjob_runs_the_cards_command_unchanged(label: str, doc: Doc, docs) -> None:
    card = CARDS[doc["metadata"]["name"]]
    assert doc["spec"]["entrypoint"] == f"python -m distlm.train {card}", label
    assert "runtimeEnvYAML" not in doc["spec"], label  # a working_dir would hide the variant
    workdir, configmap = cj.jobs_configmap(doc["spec"]["rayClusterSpec"], docs)
    assert workdir != cj.IMAGE_REPO, "the image's jobs/ must not be the one the driver reads"
    bases = yaml.safe_load(configmap["data"][Path(card).name])["extends"]
    assert bases[0] == f"{cj.IMAGE_REPO}/{card}", label


def test_the_image_holds_the_cards_where_the_variants_extend_them() -> None:
    text = (dm.REPO / "Dockerfile").read_text()
    assert re.search(rf"^WORKDIR {re.escape(cj.IMAGE_REPO)}$", text, re.M)
    assert re.search(r"^COPY .*\bjobs \./jobs$", text, re.M)


@pytest.mark.parametrize("label,doc,docs", JOBS, ids=[j[0] for j in JOBS])
def test_cluster_variant_is_the_card_on_s3(label: str, doc: Doc, docs) -> None:
    variant = _variant(doc, docs)
    card = cj.merged_tree(dm.REPO / CARDS[doc["metadata"]["name"]])
    assert storage_problems(variant) == [], label
    assert drift_problems(variant, card) == [], label
    assert cj.crop_problems(variant) == [], label


@pytest.mark.parametrize("label,doc,docs", JOBS, ids=[j[0] for j in JOBS])
def test_crop_actors_fit_the_data_group(label: str, doc: Doc, docs) -> None:
    crop = _variant(doc, docs)["data"]["crop"]
    cluster = doc["spec"]["rayClusterSpec"]
    assert crop.get("gpus_per_actor", 0) == 0, label  # the cpu group has no GPU
    need = crop["max_actors"] * crop.get("cpus_per_actor", 1)
    assert 0 < need <= data_capacity(cluster), (label, need, data_capacity(cluster))
    assert crop.get("min_actors", 1) <= crop["max_actors"], label


def test_variant_checks_fail_on_a_changed_card() -> None:
    label, doc, docs = JOBS[0]
    variant = _variant(doc, docs)
    card = cj.merged_tree(dm.REPO / CARDS[doc["metadata"]["name"]])
    changed = copy.deepcopy(variant)
    changed["model"]["name"] = "resnet18"
    changed["data"]["labelled"]["format"] = "parquet"
    assert len(drift_problems(changed, card)) == 2
    changed = copy.deepcopy(variant)
    changed["run"]["storage_path"] = "runs"
    changed["data"]["cache"] = None
    changed["data"]["test"]["path"] = "data/test.csv"
    assert len(storage_problems(changed)) == 3
    changed["data"]["crop"] = {"max_actor": 3, "cpus_per_actor": -1}
    assert len(cj.crop_problems(changed)) == 2
