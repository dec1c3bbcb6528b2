"""cluster/local.sh: a 2-node Ray cluster on loopback comes up, answers, and goes away.

One cluster per module (start-up costs ~15 s); its state lives in a short temp folder
(unix socket paths must stay under 108 characters).  `down` must leave none of the
recorded pids alive; it stops only those pids, so other Ray clusters are untouched.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, Iterator

import pytest

import deploy_manifests as dm

pytestmark = pytest.mark.slow

from cluster_helpers import RAY, SCRIPT, alive as _alive, local_cluster, recorded as _recorded, run as _run


@pytest.fixture(scope="module")
def cluster() -> Iterator[Dict[str, str]]:
    with local_cluster(nodes=2, cpus_per_node=2, object_store_mb=256, prefix="dlc") as env:
        yield env


def test_up_prints_auth_and_addresses(cluster) -> None:
    assert cluster["RAY_AUTH_MODE"] == "token"
    assert len(cluster["RAY_AUTH_TOKEN"]) >= 32
    assert cluster["RAY_ADDRESS"].startswith("127.0.0.1:")
    assert cluster["RAY_API_SERVER_ADDRESS"].startswith("http://127.0.0.1:")
    token_file = Path(cluster["STATE"]) / "auth_token"
    assert token_file.read_text().strip() == cluster["RAY_AUTH_TOKEN"]
    assert token_file.stat().st_mode & 0o077 == 0, "the token file must be private"


def test_two_nodes_alive(cluster) -> None:
    out = _run([str(RAY), "list", "nodes", "--address", cluster["RAY_API_SERVER_ADDRESS"],
                "--format", "json"], cluster, timeout=120)
    assert out.returncode == 0, out.stderr
    nodes = json.loads(out.stdout)
    assert sum(n["state"] == "ALIVE" for n in nodes) == 2, nodes
    assert sum(bool(n["is_head_node"]) for n in nodes) == 1


def test_wrong_token_is_refused(cluster) -> None:
    env = {**cluster, "RAY_AUTH_TOKEN": "0" * 64}
    out = _run([str(RAY), "list", "nodes", "--address", cluster["RAY_API_SERVER_ADDRESS"],
                "--format", "json"], env, timeout=120)
    assert "ALIVE" not in out.stdout
    assert "auth" in (out.stdout + out.stderr).lower()


def test_status_lists_address_nodes_and_pids(cluster) -> None:
    out = _run(["bash", str(SCRIPT), "status"], cluster, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert cluster["RAY_API_SERVER_ADDRESS"] in out.stdout
    assert cluster["RAY_ADDRESS"] in out.stdout
    node_lines = [ln for ln in out.stdout.splitlines() if ln.startswith("node ")]
    assert len(node_lines) == 2 and all("alive" in ln for ln in node_lines), out.stdout
    for pid, _ in _recorded(Path(cluster["STATE"]))[:3]:
        assert str(pid) in out.stdout


def test_second_up_is_refused_while_running(cluster) -> None:
    out = _run(["bash", str(SCRIPT), "up", "2"], cluster, timeout=60)
    assert out.returncode != 0
    assert "still running" in out.stderr


@pytest.mark.skipif(not (dm.REPO / "distlm" / "train" / "__main__.py").exists(),
                    reason="distlm/train/__main__.py (the trainer) is not written yet")
def test_submit_local_smoke_job(cluster, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    out = _run([str(RAY), "job", "submit", "--address", cluster["RAY_API_SERVER_ADDRESS"],
                "--working-dir", str(dm.REPO), "--", "python", "-m", "distlm.train",
                "jobs/local-smoke.yaml", f"run.storage_path={runs}"], cluster, timeout=900)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    assert "succeeded" in out.stdout + out.stderr
    assert runs.exists() and any(runs.rglob("*")), "the job left nothing in its storage path"


def test_down_stops_every_recorded_pid(cluster) -> None:
    state = Path(cluster["STATE"])
    before = _recorded(state)
    assert any(_alive(p, s) for p, s in before)
    out = _run(["bash", str(SCRIPT), "down"], cluster, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    after = _recorded(state)  # down adds the workers forked since `up`
    assert len(after) >= len(before)
    assert [p for p, s in after if _alive(p, s)] == []
    status = _run(["bash", str(SCRIPT), "status"], cluster, timeout=60)
    assert status.returncode == 1 and "DEAD" in status.stdout


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    env = {**os.environ, "DISTLM_CLUSTER_DIR": str(tmp_path / "s")}
    bad = _run(["bash", str(SCRIPT), "up", "zero"], env, timeout=30)
    assert bad.returncode == 2 and "positive integer" in bad.stderr
    assert _run(["bash", str(SCRIPT), "frobnicate"], env, timeout=30).returncode == 2
    empty = _run(["bash", str(SCRIPT), "status"], env, timeout=30)
    assert empty.returncode == 3 and "no cluster" in empty.stdout
