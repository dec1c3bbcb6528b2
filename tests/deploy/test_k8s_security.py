"""Closed by default: rules every rendering of k8s/ keeps, each with a test that the
check itself fails on a manifest that breaks it.

* token authentication: every Ray container (head, workers), the autoscaler sidecar
  and every RayJob's submitter run with ``RAY_AUTH_MODE=token`` and ``RAY_AUTH_TOKEN``
  from the Secret ``distlm-ray-auth`` (never an inline value);
* a NetworkPolicy in every kustomization that selects every Ray pod and admits the
  dashboard/job API (8265) only from the submitter pods and the KubeRay operator, the
  metrics ports only from Prometheus, and nothing from anywhere else;
* non-root pods: ``runAsNonRoot``, uid 1000, the RuntimeDefault seccomp profile, and
  containers without privilege escalation or capabilities.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import deploy_manifests as dm

RENDERED = dm.all_renderings()
RAY_DOCS = [(label, d) for label, d in RENDERED if d["kind"] in dm.SCHEMA_FILES]
IDS = lambda pairs: [label for label, _ in pairs]  # noqa: E731
AUTH_SECRET = {"name": "distlm-ray-auth", "key": "auth_token"}
METRICS_PORTS = {8000, 8080}
DASHBOARD_PORT = 8265
SUBMITTER = {"distlm.io/role": "submitter"}
OPERATOR = {"app.kubernetes.io/name": "kuberay-operator"}
PROMETHEUS = {"app.kubernetes.io/name": "prometheus"}


def pods(doc: Dict[str, Any]) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """(where, pod template) of every pod a RayCluster/RayJob makes, submitter included."""
    for group, tpl in dm.pod_templates(dm.cluster_spec(doc)):
        yield group, tpl
    if doc["kind"] == "RayJob":
        yield "submitter", doc["spec"]["submitterPodTemplate"]


def auth_problems(doc: Dict[str, Any]) -> List[str]:
    def env_problems(where: str, env: List[Dict[str, Any]]) -> List[str]:
        by_name = {e["name"]: e for e in env or []}
        out = []
        if by_name.get("RAY_AUTH_MODE", {}).get("value") != "token":
            out.append(f"{where}: RAY_AUTH_MODE is not token")
        token = by_name.get("RAY_AUTH_TOKEN", {})
        if "value" in token or token.get("valueFrom", {}).get("secretKeyRef") != AUTH_SECRET:
            out.append(f"{where}: RAY_AUTH_TOKEN does not come from Secret {AUTH_SECRET}")
        return out

    problems = []
    for where, tpl in pods(doc):
        for c in tpl["spec"]["containers"]:
            problems += env_problems(f"{where}/{c['name']}", c.get("env"))
    spec = dm.cluster_spec(doc)
    if spec.get("enableInTreeAutoscaling"):
        problems += env_problems("autoscaler", spec.get("autoscalerOptions", {}).get("env"))
    return problems


def security_problems(doc: Dict[str, Any]) -> List[str]:
    problems = []
    containers = []
    for where, tpl in pods(doc):
        sc = tpl["spec"].get("securityContext", {})
        if not (sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 1000
                and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"):
            problems.append(f"{where}: pod securityContext is not non-root uid 1000 with RuntimeDefault seccomp")
        containers += [(f"{where}/{c['name']}", c.get("securityContext", {})) for c in tpl["spec"]["containers"]]
    spec = dm.cluster_spec(doc)
    if spec.get("enableInTreeAutoscaling"):
        containers.append(("autoscaler", spec.get("autoscalerOptions", {}).get("securityContext", {})))
    for where, sc in containers:
        if sc.get("allowPrivilegeEscalation") is not False or sc.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.append(f"{where}: container may escalate privileges or keeps capabilities")
        if sc.get("privileged") or sc.get("runAsUser") == 0:
            problems.append(f"{where}: container runs privileged or as root")
    return problems


def _matches(selector: Dict[str, Any], labels: Dict[str, str]) -> bool:
    return not selector.get("matchExpressions") and selector.get("matchLabels", {}).items() <= labels.items()


def policy_problems(docs: List[Dict[str, Any]]) -> List[str]:
    """Problems of the NetworkPolicies of one rendering, against its Ray pods."""
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    if not policies:
        return ["no NetworkPolicy"]
    problems = []
    ray_pods = [(d["metadata"]["name"], where, tpl) for d in docs if d["kind"] in dm.SCHEMA_FILES
                for where, tpl in pods(d) if where != "submitter"]
    for name, where, tpl in ray_pods:
        labels = tpl["metadata"]["labels"]
        mine = [p for p in policies if _matches(p["spec"]["podSelector"], labels)
                and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])]
        if not mine:
            problems.append(f"{name}/{where}: no NetworkPolicy selects it")
    ray_labels = [tpl["metadata"]["labels"] for _, _, tpl in ray_pods]
    for p in policies:
        for rule in p["spec"].get("ingress", []):
            peers = rule.get("from")
            if not peers:
                problems.append(f"{p['metadata']['name']}: an ingress rule admits every source")
                continue
            ports = {q.get("port") for q in rule.get("ports", [])} or {"any"}
            for peer in peers:
                selector = peer.get("podSelector")
                if selector is None or "ipBlock" in peer:
                    problems.append(f"{p['metadata']['name']}: a peer is not a pod selector: {peer}")
                    continue
                labels = selector.get("matchLabels", {})
                if peer.get("namespaceSelector") is None and any(_matches(selector, lb) for lb in ray_labels):
                    continue  # the Ray pods among themselves
                allowed = set()
                if labels == SUBMITTER and "namespaceSelector" not in peer or labels == OPERATOR:
                    allowed = {DASHBOARD_PORT}
                elif labels == PROMETHEUS:
                    allowed = METRICS_PORTS
                if not ports <= allowed:
                    problems.append(f"{p['metadata']['name']}: {labels or 'every pod'} may reach ports {ports}")
    return problems


@pytest.mark.parametrize("label,doc", RAY_DOCS, ids=IDS(RAY_DOCS))
def test_every_ray_process_uses_token_auth_from_the_secret(label: str, doc: Dict[str, Any]) -> None:
    assert auth_problems(doc) == [], label


@pytest.mark.parametrize("label,doc", RAY_DOCS, ids=IDS(RAY_DOCS))
def test_pods_run_as_non_root_without_privileges(label: str, doc: Dict[str, Any]) -> None:
    assert security_problems(doc) == [], label


@pytest.mark.parametrize("root", dm.kustomize_roots(), ids=lambda p: str(p.relative_to(dm.REPO)))
def test_every_rendering_has_a_closing_network_policy(root) -> None:
    assert policy_problems(dm.render_kustomization(root)) == [], root


def test_submitter_pods_carry_the_label_the_policy_admits() -> None:
    jobs = [d for _, d in RAY_DOCS if d["kind"] == "RayJob"]
    assert jobs
    for doc in jobs:
        assert SUBMITTER.items() <= doc["spec"]["submitterPodTemplate"]["metadata"]["labels"].items()


def test_the_dashboard_binds_all_interfaces_only_behind_auth() -> None:
    """The head's dashboard listens on 0.0.0.0 (port-forward, submitter, workers), so
    the token must be on in that very pod."""
    for label, doc in RAY_DOCS:
        spec = dm.cluster_spec(doc)
        if spec["headGroupSpec"]["rayStartParams"].get("dashboard-host") == "0.0.0.0":
            head = [c for c in spec["headGroupSpec"]["template"]["spec"]["containers"]][0]
            assert {"name": "RAY_AUTH_MODE", "value": "token"} in head["env"], label


# --- the checks can fail -----------------------------------------------------------------

def _cluster():
    return copy.deepcopy(next(d for _, d in RAY_DOCS if d["kind"] == "RayJob"))


def test_auth_check_fails_without_the_token() -> None:
    doc = _cluster()
    doc["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]["env"] = []
    assert any("RAY_AUTH_MODE" in p for p in auth_problems(doc))
    doc = _cluster()
    env = doc["spec"]["submitterPodTemplate"]["spec"]["containers"][0]["env"]
    env[1] = {"name": "RAY_AUTH_TOKEN", "value": "inline"}
    assert any("RAY_AUTH_TOKEN" in p for p in auth_problems(doc))
    doc = _cluster()
    del doc["spec"]["rayClusterSpec"]["autoscalerOptions"]["env"]
    assert any(p.startswith("autoscaler") for p in auth_problems(doc))


def test_security_check_fails_on_root_or_privileges() -> None:
    doc = _cluster()
    doc["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["securityContext"]["runAsUser"] = 0
    assert security_problems(doc)
    doc = _cluster()
    c = doc["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    c["securityContext"]["allowPrivilegeEscalation"] = True
    assert security_problems(doc)
    doc = _cluster()
    del doc["spec"]["submitterPodTemplate"]["spec"]["securityContext"]
    assert security_problems(doc)


def test_policy_check_fails_when_the_policy_opens_up() -> None:
    docs = dm.render_kustomization(dm.K8S / "base")
    assert policy_problems([d for d in docs if d["kind"] != "NetworkPolicy"]) == ["no NetworkPolicy"]
    opened = copy.deepcopy(docs)
    pol = next(d for d in opened if d["kind"] == "NetworkPolicy")
    pol["spec"]["ingress"].append({"ports": [{"protocol": "TCP", "port": 8265}]})  # from anywhere
    assert policy_problems(opened)
    opened = copy.deepcopy(docs)
    pol = next(d for d in opened if d["kind"] == "NetworkPolicy")
    pol["spec"]["ingress"][2]["ports"].append({"protocol": "TCP", "port": 8265})  # Prometheus to the job API
    assert policy_problems(opened)
    opened = copy.deepcopy(docs)
    pol = next(d for d in opened if d["kind"] == "NetworkPolicy")
    pol["spec"]["podSelector"] = {"matchLabels": {"app": "other"}}
    assert any("no NetworkPolicy selects it" in p for p in policy_problems(opened))
