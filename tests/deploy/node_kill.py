"""Killing one node of a ``cluster/local.sh`` cluster the way a lost machine dies:
which node hosts a process, the process tree of a node, SIGKILL of exactly the
processes ``local.sh`` started (start times checked), and small polling helpers."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from polling import wait_for  # noqa: F401  (re-exported for the cluster tests)
from cluster_helpers import RAY, alive as _same, run as _run, stat as _stat


def nodes(state: Path) -> List[Tuple[str, int, str]]:
    """``(name, pid = pgid, start time)`` of every node ``local.sh`` started (n0 = head)."""
    rows = [ln.split() for ln in (state / "nodes.txt").read_text().splitlines() if ln.strip()]
    return [(r[0], int(r[1]), r[2]) for r in rows]


def node_of(pid: int, nodes: List[Tuple[str, int, str]]) -> Optional[str]:
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


def kill_node(node: Tuple[str, int, str]) -> List[int]:
    """SIGKILL one node started by local.sh: its group and descendants (checked start times)."""
    name, pid, start = node
    assert _same(pid, start), f"node {name} (pid {pid}) is not the process local.sh started"
    victims = [(p, _stat(p)[19]) for p in _tree(pid) if _stat(p) is not None]
    os.killpg(pid, signal.SIGKILL)
    for p, st in victims:
        if _same(p, st):
            os.kill(p, signal.SIGKILL)
    return [p for p, _ in victims]


def ray_cli(cluster: Dict[str, str], group: str, command: str, *args: str, timeout: float = 120) -> str:
    """``ray GROUP COMMAND --address DASHBOARD ARGS...``: stdout + stderr (the CLI logs to both)."""
    out = _run([str(RAY), group, command, "--address", cluster["RAY_API_SERVER_ADDRESS"], *args],
               cluster, timeout)
    return out.stdout + out.stderr


def train_worker_pids(cluster: Dict[str, str]) -> List[int]:
    out = _run([str(RAY), "list", "actors", "--address", cluster["RAY_API_SERVER_ADDRESS"], "--filter",
                "class_name=RayTrainWorker", "--filter", "state=ALIVE", "--format", "json"], cluster)
    try:  # "No resource in the cluster" (not JSON) until the first worker exists
        return [int(a["pid"]) for a in json.loads(out.stdout)]
    except ValueError:
        return []
