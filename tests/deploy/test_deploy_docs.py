"""docs/deploy.md covers every way to run and names only files that exist."""
from __future__ import annotations

import re

import pytest

import deploy_manifests as dm

DOC = (dm.REPO / "docs" / "deploy.md").read_text()


@pytest.mark.parametrize("needle", [
    "cluster/local.sh up", "cluster/local.sh down", "cluster/local.sh status",
    "ray up cluster/aws-gpu.yaml", "helm install kuberay-operator",
    "kubectl apply -k k8s/overlays/cpu-small", "kubectl apply -f", "ray job submit",
    "kubectl create secret generic distlm-s3", "AWS_ENDPOINT_URL_S3", "PodMonitor",
    "docker build -t distlm", "max_failures", "--resume",
])
def test_doc_covers(needle: str) -> None:
    assert needle in DOC


def test_paths_named_in_the_doc_exist() -> None:
    paths = set(re.findall(r"\b((?:k8s|cluster|jobs)/[\w./-]+\.(?:ya?ml|sh))\b", DOC))
    assert paths, "the doc names no files?"
    missing = sorted(p for p in paths if "<" not in p and not (dm.REPO / p).exists())
    assert missing == []


def test_every_k8s_file_is_documented() -> None:
    for path in dm.K8S.rglob("*.yaml"):
        rel = path.relative_to(dm.K8S)
        if rel.parts[0] == "overlays":
            assert f"overlays/{rel.parts[1]}" in DOC, rel
        else:
            assert path.name in DOC, rel
