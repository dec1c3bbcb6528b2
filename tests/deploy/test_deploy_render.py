"""The test helpers themselves: JSON 6902 patches, target matching, spec fallback."""
from __future__ import annotations

import shutil
import subprocess
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


def test_configmap_generator_create_and_merge(tmp_path: Path) -> None:
    base, over = tmp_path / "base", tmp_path / "over"
    for folder in (base, over):
        folder.mkdir()
    (base / "a.yaml").write_text("x: 1\n")
    (base / "b.yaml").write_text("y: 1\n")
    (over / "b.yaml").write_text("y: 2\n")
    opts = {"disableNameSuffixHash": True, "labels": {"app": "t"}}
    (base / "kustomization.yaml").write_text(yaml.safe_dump(
        {"configMapGenerator": [{"name": "cm", "files": ["a.yaml", "b.yaml"]}], "generatorOptions": opts}))
    (over / "kustomization.yaml").write_text(yaml.safe_dump(
        {"resources": ["../base"], "generatorOptions": opts,
         "configMapGenerator": [{"name": "cm", "behavior": "merge", "files": ["b.yaml"]}]}))
    (cm,) = dm.render_kustomization(over)
    assert cm["metadata"] == {"name": "cm", "labels": {"app": "t"}}
    assert cm["data"] == {"a.yaml": "x: 1\n", "b.yaml": "y: 2\n"}
    (base / "kustomization.yaml").write_text(yaml.safe_dump(
        {"configMapGenerator": [{"name": "cm", "files": ["a.yaml"]}]}))
    with pytest.raises(ValueError, match="disableNameSuffixHash"):
        dm.render_kustomization(base)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with its kustomize) not installed")
@pytest.mark.parametrize("root", dm.kustomize_roots(), ids=lambda p: str(p.relative_to(dm.REPO)))
def test_renderer_agrees_with_kubectl_kustomize(root: Path) -> None:
    out = subprocess.run(["kubectl", "kustomize", str(root)], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
    theirs = sorted((d for d in yaml.safe_load_all(out) if d), key=key)
    assert sorted(dm.render_kustomization(root), key=key) == theirs
