"""cluster/aws-gpu.yaml: a valid Ray cluster-launcher config sized to the job specs."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict

import jsonschema
import pytest
import yaml

import cluster_jobs as cj
import deploy_manifests as dm

CONFIG = dm.REPO / "cluster" / "aws-gpu.yaml"
GPU_SPECS = [dm.JOBS / "rafdb.yaml", dm.JOBS / "emotionet.yaml"]


@pytest.fixture(scope="module")
def config() -> Dict[str, Any]:
    return yaml.safe_load(CONFIG.read_text())


def test_matches_the_ray_cluster_launcher_schema(config) -> None:
    import ray.autoscaler
    from ray.autoscaler._private.util import fillout_defaults, validate_config

    schema = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())
    jsonschema.validate(config, schema)
    validate_config(fillout_defaults(config))  # Ray's own checks (node types, limits)
    broken = {**config, "max_workers": "many"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_aws_head_on_cpu_and_autoscaling_gpu_workers(config) -> None:
    assert config["provider"]["type"] == "aws"
    types = config["available_node_types"]
    head = types[config["head_node_type"]]
    assert "GPU" not in head["resources"]
    gpu_types = {n: t for n, t in types.items() if t["resources"].get("GPU", 0) > 0}
    assert gpu_types, "no GPU worker type"
    for name, t in gpu_types.items():
        assert t["node_config"]["InstanceType"].split(".")[0] in ("g5", "g4dn", "g6", "p3", "p4d")
        assert 0 <= t["min_workers"] <= t["max_workers"] <= config["max_workers"], name


CPUS_PER_GPU = 8   # docs/deploy.md: the loader's cores per GPU
VARIANTS = dm.K8S / "base" / "jobs"   # the cards on the cluster, mounted in the head's cwd
HEAD_CWD = "/home/ray/cluster"


def _variant(tmp: Path, card: Path) -> Dict[str, Any]:
    """The cluster variant of ``card`` as its driver reads it: (scaling, telemetry), tree."""
    files = {f.name: f.read_text() for f in VARIANTS.glob("*.yaml")}
    jobs = cj.materialize({"data": files}, tmp, strip_crop_keys=not cj.schema_has_crop_keys())
    tree = cj.merged_tree(cj.materialize({"data": files}, tmp / "raw") / card.name)
    return {**dm.load_spec(jobs / card.name), "tree": tree}


def test_cpu_worker_type_for_ray_data(config) -> None:
    types = config["available_node_types"]
    assert types[config["head_node_type"]]["resources"].get("CPU") == 0, "the head takes no work"
    cpu = [t for n, t in types.items() if n != config["head_node_type"] and "GPU" not in t["resources"]]
    assert len(cpu) == 1, "one CPU-only worker type for Ray Data"
    assert cpu[0]["min_workers"] == 0 < cpu[0]["max_workers"] <= config["max_workers"]
    assert cpu[0]["resources"]["CPU"] >= 8
    for name, t in types.items():
        if t["resources"].get("GPU"):
            assert t["resources"]["CPU"] == CPUS_PER_GPU * t["resources"]["GPU"], name


@pytest.mark.parametrize("path", GPU_SPECS, ids=lambda p: p.name)
def test_workers_fit_the_cluster_variant(config, tmp_path: Path, path: Path) -> None:
    spec = _variant(tmp_path, path)
    sc, tree = spec["scaling"], spec["tree"]
    assert sc["use_gpu"], f"{path} is expected to train on GPUs"
    types = config["available_node_types"]
    fits = [t for t in types.values() if t["resources"].get("GPU", 0) >= sc["gpus_per_worker"]
            and t["resources"].get("CPU", 0) >= sc["cpus_per_worker"]]
    assert fits, f"no node type holds one worker of {path.name}: {sc}"
    assert max(t["max_workers"] for t in fits) >= sc["num_workers"]
    cpu = [t for n, t in types.items() if n != config["head_node_type"] and "GPU" not in t["resources"]]
    crop = tree["data"]["crop"]
    assert crop["max_actors"] * crop["cpus_per_actor"] <= sum(t["max_workers"] * t["resources"]["CPU"]
                                                              for t in cpu)
    assert config["max_workers"] >= sc["num_workers"] + sum(t["max_workers"] for t in cpu)
    for key in ("labelled", "unlabelled", "test"):
        assert tree["data"][key]["path"].startswith("s3://"), key
    assert tree["data"]["cache"].startswith("s3://") and tree["run"]["storage_path"].startswith("s3://")


def test_the_driver_runs_where_the_variants_are(config) -> None:
    assert config["file_mounts"][f"{HEAD_CWD}/jobs"] == VARIANTS.relative_to(dm.REPO).as_posix()
    start = " ".join(config["head_start_ray_commands"])
    assert re.search(rf"cd {HEAD_CWD} &&\s*ray start --head", start), start
    assert "--working-dir" not in CONFIG.read_text().split("ray job submit", 1)[1].split("\n")[0]


def test_image_setup_and_mounts(config) -> None:
    image = config["docker"]["image"]
    assert re.match(r"^(rayproject/ray(-ml)?:[\d.]+(-py3\d+)?-gpu|.*distlm.*)$", image), image
    assert any(re.search(r"pip install .*distlm\[faces", c) for c in config["setup_commands"])
    assert config["file_mounts"], "the code must be mounted on the nodes"
    text = CONFIG.read_text()
    assert not re.search(r"(?i)aws_(secret_)?access_key", text), "no keys in the config"
