"""The test helpers themselves: JSON 6902 patches, target matching, spec fallback."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import deploy_manifests as dm

DOC = {"apiVersion": "ray.io/v1", "kind": "RayJob", "metadata": {"name": "distlm-rafdb"},
       "spec": {"a": {"nvidia.com/gpu": "1", "cpu": "4"}, "l": [1, 2]}}


def test_json6902_add_replace_remove_with_escapes() -> None:
    ops = [{"op": "remove", "path": "/spec/a/nvidia.com~1gpu"},
           {"op": "replace", "path": "/spec/a/cpu", "value": "1"},
           {"op": "add", "path": "/spec/l/-", "value": 3},
           {"op": "add", "path": "/spec/new", "value": {"x": 1}}]
    out = dm.apply_json6902(DOC, ops, "t")
    assert out["spec"] == {"a": {"cpu": "1"}, "l": [1, 2, 3], "new": {"x": 1}}
    assert DOC["spec"]["a"]["cpu"] == "4", "the input must not be modified"


@pytest.mark.parametrize("op", [
    {"op": "replace", "path": "/spec/missing", "value": 1},
    {"op": "remove", "path": "/spec/l/5"},
    {"op": "move", "path": "/spec/a", "from": "/spec/l"},
    {"op": "add", "path": "/nope/deeper", "value": 1},
])
def test_json6902_errors_name_the_patch(op) -> None:
    with pytest.raises(ValueError, match="patch.yaml"):
        dm.apply_json6902(DOC, [op], "patch.yaml")


def test_target_matching_by_kind_and_name_regex() -> None:
    assert dm._matches(DOC, {"group": "ray.io", "kind": "RayJob", "name": "distlm-(rafdb|x)"})
    assert not dm._matches(DOC, {"kind": "RayCluster"})
    assert not dm._matches(DOC, {"name": "distlm"})  # full match, not prefix


def test_render_refuses_unhandled_kustomize_features(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({"resources": [],
                                                                 "images": [{"name": "x"}]}))
    with pytest.raises(ValueError, match="images"):
        dm.render_kustomization(tmp_path)


def test_render_refuses_a_patch_matching_nothing(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(DOC))
    (tmp_path / "p.yaml").write_text(yaml.safe_dump([{"op": "remove", "path": "/spec/l"}]))
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(
        {"resources": ["r.yaml"], "patches": [{"path": "p.yaml", "target": {"kind": "Nope"}}]}))
    with pytest.raises(ValueError, match="matches no resource"):
        dm.render_kustomization(tmp_path)


SPECS = sorted(dm.JOBS.glob("*.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_yaml_fallback_agrees_with_the_loader(path: Path) -> None:
    overrides = ["scaling.num_workers=2", "scaling.use_gpu=false"]
    full = dm.load_spec(path, overrides)
    plain = dm.load_spec(path, overrides, use_loader=False)
    for key in ("num_workers", "use_gpu", "cpus_per_worker", "gpus_per_worker"):
        assert full["scaling"][key] == plain["scaling"][key], (path.name, key)
    assert full["telemetry"]["metrics_port"] == plain["telemetry"]["metrics_port"]
    assert full["scaling"]["num_workers"] == plain["scaling"]["num_workers"] == 2
    assert full["scaling"]["use_gpu"] is False


def test_shared_schemas_are_found() -> None:
    assert (dm.shared_dir() / "schemas" / "kuberay" / "ray.io_rayjobs.yaml").is_file()
