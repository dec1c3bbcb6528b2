"""A training job survives losing a node of a real multi-node Ray cluster.

``cluster/local.sh up 3`` starts a head and two worker nodes on loopback with **one
CPU each**, so the job's two Train workers (1 CPU each) land on two different nodes.
Once the run's first ``checkpoint_*`` exists, every process of a non-head node that
hosts a Train worker is killed (SIGKILL of the node's process group and descendants,
as a lost machine would be). Ray Train (``run.max_failures=2``) must restart the
worker group on the two nodes left, restore the last checkpoint ("resumed at epoch"
in the job's log), finish every epoch and print its final metrics.

The plain submit (no failure) is covered by ``tests/deploy/test_local_cluster.py``.
One cluster for the module; only the pids ``local.sh`` recorded are ever signalled.
"""
from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

from distlm.train.checkpoint import load_state

from train_helpers import REPO

sys.path.insert(0, os.path.join(REPO, "tests", "deploy"))
from cluster_helpers import RAY, SCRIPT, alive as _same, local_cluster, run as _run, stat as _stat  # noqa: E402

pytestmark = pytest.mark.slow

EPOCHS = 6
OVERRIDES = [f"train.epochs={EPOCHS}", "train.steps_per_epoch=8", "data.labels_per_class=10",
             "model.options={width: 8, norm: group}", "model.embedding_dim=16", "train.log_every=100",
             "run.max_failures=2", "run.checkpoint_every=1", "run.keep=1"]


def _nodes(state: Path) -> List[Tuple[str, int, str]]:
    """``(name, pid = pgid, start time)`` of every node ``local.sh`` started (n0 = head)."""
    rows = [ln.split() for ln in (state / "nodes.txt").read_text().splitlines() if ln.strip()]
    return [(r[0], int(r[1]), r[2]) for r in rows]


def _node_of(pid: int, nodes: List[Tuple[str, int, str]]) -> Optional[str]:
    """Name of the node whose ``ray start`` process is an ancestor of ``pid`` (or its group)."""
    by_pid = {p: name for name, p, _ in nodes}
    f = _stat(pid)
    if f is not None and int(f[2]) in by_pid:  # process group
        return by_pid[int(f[2])]
    while pid > 1:
        if pid in by_pid:
            return by_pid[pid]
        f = _stat(pid)
        if f is None:
            return None
        pid = int(f[1])
    return None


def _tree(root: int) -> List[int]:
    """``root``'s process group members and all its descendants."""
    rows = [line.split() for line in _run(["ps", "-eo", "pid=,ppid=,pgid="], dict(os.environ)).stdout.splitlines()]
    parent = {int(r[0]): int(r[1]) for r in rows}
    out = {int(r[0]) for r in rows if int(r[2]) == root}
    for p in parent:
        q = p
        while q in parent and q > 1:
            if q == root:
                out.add(p)
                break
            q = parent[q]
    return sorted(out)


def _kill_node(node: Tuple[str, int, str]) -> List[int]:
    """SIGKILL one node started by local.sh: its group and descendants (checked start times)."""
    name, pid, start = node
    assert _same(pid, start), f"node {name} (pid {pid}) is not the process local.sh started"
    victims = [(p, _stat(p)[19]) for p in _tree(pid) if _stat(p) is not None]
    os.killpg(pid, signal.SIGKILL)
    for p, st in victims:
        if _same(p, st):
            os.kill(p, signal.SIGKILL)
    return [p for p, _ in victims]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Dict[str, str]]:
    # one CPU per node: the two Train workers land on two different nodes, and two
    # nodes remain to restart on after one is killed
    with local_cluster(nodes=3, cpus_per_node=1, object_store_mb=200, prefix="dlm",
                       attempts=2, up_timeout=400) as env:
        yield env


def _ray(cluster: Dict[str, str], group: str, command: str, *args: str, timeout: float = 120) -> str:
    """``ray GROUP COMMAND --address DASHBOARD ARGS...``: stdout + stderr (the CLI logs to both)."""
    out = _run([str(RAY), group, command, "--address", cluster["RAY_API_SERVER_ADDRESS"], *args],
               cluster, timeout)
    return out.stdout + out.stderr


def _train_worker_pids(cluster: Dict[str, str]) -> List[int]:
    out = _run([str(RAY), "list", "actors", "--address", cluster["RAY_API_SERVER_ADDRESS"], "--filter",
                "class_name=RayTrainWorker", "--filter", "state=ALIVE", "--format", "json"], cluster)
    try:  # "No resource in the cluster" (not JSON) until the first worker exists
        return [int(a["pid"]) for a in json.loads(out.stdout)]
    except ValueError:
        return []


def _wait(cond, timeout: float, what: str, every: float = 0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def killed_run(cluster, tmp_path_factory) -> Dict[str, object]:
    """Submit the job, kill a worker node after the first checkpoint, wait for the end."""
    runs = tmp_path_factory.mktemp("runs")
    run_dir = runs / "local-smoke"
    sub = _ray(cluster, "job", "submit", "--no-wait", "--working-dir", str(REPO), "--", "python", "-m",
               "distlm.train", "jobs/local-smoke.yaml", f"run.storage_path={runs}", *OVERRIDES,
               timeout=300)
    found = re.search(r"raysubmit_\w+", sub)
    assert found, sub[-3000:]
    job_id = found.group(0)
    t0 = time.time()
    nodes = _nodes(Path(cluster["STATE"]))

    def job_status() -> Optional[str]:
        ended = re.search(r"Job '\w+' (succeeded|failed|was stopped)", _ray(cluster, "job", "status", job_id))
        return ended.group(1).upper().replace("WAS ", "") if ended else None

    def workers_up():
        pids = _train_worker_pids(cluster)
        assert not (len(pids) < 2 and job_status()), _ray(cluster, "job", "logs", job_id)[-4000:]
        return pids if len(pids) == 2 else None

    pids = _wait(workers_up, 300, "two Train workers", 1)
    hosts = {p: _node_of(p, nodes) for p in pids}
    # a checkpoint_* folder is written by the worker before the controller registers it;
    # kill only once the controller's snapshot lists it, so the restart can restore it
    snapshot = run_dir / "checkpoint_manager_snapshot.json"
    first = _wait(lambda: sorted(run_dir.glob("checkpoint_*/")) if snapshot.exists()
                  and "checkpoint_" in snapshot.read_text() else None, 300, "the first registered checkpoint", 0.1)
    t_ckpt = time.time() - t0
    victims = [n for n in nodes if n[0] != "n0" and n[0] in hosts.values()]
    assert len(hosts) == 2 and len(set(hosts.values())) == 2, f"workers not on two nodes: {hosts}"
    assert victims, f"no worker node hosts a Train worker: {hosts}"
    killed = _kill_node(victims[0])
    t_kill = time.time() - t0

    status = _wait(job_status, 420, f"job {job_id} to end", 2)
    logs = _ray(cluster, "job", "logs", job_id)
    return {"status": status, "logs": logs, "run_dir": run_dir, "first": first, "hosts": hosts,
            "victim": victims[0][0], "killed": killed, "nodes": nodes, "t_ckpt": t_ckpt, "t_kill": t_kill,
            "t_end": time.time() - t0}


def test_workers_spread_over_two_nodes_and_one_was_killed(killed_run, cluster):
    hosts, victim = killed_run["hosts"], killed_run["victim"]
    print(f"workers {hosts}; killed {victim} ({len(killed_run['killed'])} pids) at "
          f"{killed_run['t_kill']:.1f}s, first checkpoint at {killed_run['t_ckpt']:.1f}s, "
          f"job ended at {killed_run['t_end']:.1f}s")
    assert victim in hosts.values()
    alive = [n for n in killed_run["nodes"] if _same(n[1], n[2])]
    assert [n[0] for n in alive] == [n[0] for n in killed_run["nodes"] if n[0] != victim]
    status = _run(["bash", str(SCRIPT), "status"], cluster, timeout=60)
    assert status.returncode == 1 and f"node {victim}: DEAD" in status.stdout, status.stdout


def test_job_restored_from_checkpoint_and_finished(killed_run):
    logs = killed_run["logs"]
    assert killed_run["status"] == "SUCCEEDED", logs[-4000:]
    resumed = [int(e) for e in re.findall(r"resumed at epoch (\d+)", logs)]
    assert resumed, "no worker logged 'resumed at epoch': the run was not restored\n" + logs[-4000:]
    assert all(1 <= e < EPOCHS for e in resumed), resumed


def test_final_metrics_and_checkpoint_cover_every_epoch(killed_run):
    logs = killed_run["logs"]
    final, _ = json.JSONDecoder().raw_decode(logs[logs.rindex('{\n  "checkpoint"'):])
    assert final["metrics"]["epoch"] == EPOCHS
    assert 0.0 <= final["metrics"]["test_acc"] <= 1.0
    state = load_state(final["checkpoint"])
    assert state["epoch"] == EPOCHS and state["step"] == final["metrics"]["step"] > 0
    assert len(state["history"]["loss"]) == state["step"]  # restored history + the replayed epochs
    assert Path(final["checkpoint"]).parent == killed_run["run_dir"]
