"""cluster/aws-gpu.yaml: a valid Ray cluster-launcher config sized to the job specs."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict

import jsonschema
import pytest
import yaml

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


@pytest.mark.parametrize("path", GPU_SPECS, ids=lambda p: p.name)
def test_gpu_workers_fit_the_job_spec(config, path: Path) -> None:
    sc = dm.load_spec(path)["scaling"]
    assert sc["use_gpu"], f"{path} is expected to train on GPUs"
    fits = [t for t in config["available_node_types"].values()
            if t["resources"].get("GPU", 0) >= sc["gpus_per_worker"]
            and t["resources"].get("CPU", 0) >= sc["cpus_per_worker"]]
    assert fits, f"no node type holds one worker of {path.name}: {sc}"
    assert max(t["max_workers"] for t in fits) >= sc["num_workers"]
    assert config["max_workers"] >= sc["num_workers"]


def test_image_setup_and_mounts(config) -> None:
    image = config["docker"]["image"]
    assert re.match(r"^(rayproject/ray(-ml)?:[\d.]+(-py3\d+)?-gpu|.*distlm.*)$", image), image
    assert any(re.search(r"pip install .*distlm\[faces", c) for c in config["setup_commands"])
    assert config["file_mounts"], "the code must be mounted on the nodes"
    text = CONFIG.read_text()
    assert not re.search(r"(?i)aws_(secret_)?access_key", text), "no keys in the config"
