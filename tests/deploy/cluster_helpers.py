"""The local loopback cluster of ``cluster/local.sh`` for tests: start, hand over the
environment with its auth token and addresses, stop, and check that no process it
started is left. Shared by the deploy and the multi-node trainer tests."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, Iterator, List, Optional

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "cluster" / "local.sh"
RAY = Path(os.environ.get("DISTLM_PYTHON", REPO / ".venv" / "bin" / "python")).parent / "ray"


def run(args: List[str], env: Dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, stdin=subprocess.DEVNULL)


def stat(pid: int) -> Optional[List[str]]:
    """Fields of /proc/PID/stat after the command name (state first), None if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def alive(pid: int, start: str) -> bool:
    """Running, not a zombie, and still the process that was recorded (same start time)."""
    f = stat(pid)
    return f is not None and f[0] != "Z" and f[19] == start


def recorded(state: Path) -> List[tuple]:
    """``(pid, start time)`` of every process ``local.sh`` recorded."""
    if not (state / "pids").exists():
        return []
    rows = [line.split() for line in (state / "pids").read_text().splitlines() if line.strip()]
    return [(int(r[0]), r[1]) for r in rows]


@contextlib.contextmanager
def local_cluster(nodes: int, cpus_per_node: int, object_store_mb: int, prefix: str,
                  attempts: int = 1, up_timeout: float = 300) -> Iterator[Dict[str, str]]:
    """``local.sh up NODES`` in a temporary state folder; yields the environment
    (with ``RAY_ADDRESS``, ``RAY_AUTH_TOKEN_PATH``, ``STATE``, ``UP_OUTPUT``); ``down`` afterwards, failing if any
    recorded process survived. ``attempts`` > 1 retries ``up`` when a raylet missed
    Ray's fixed 30 s start window (a loaded machine)."""
    state = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    env = {**os.environ, "DISTLM_CLUSTER_DIR": str(state), "DISTLM_DOWN_GRACE": "5",
           "DISTLM_CPUS_PER_NODE": str(cpus_per_node), "DISTLM_OBJECT_STORE_MB": str(object_store_mb)}
    for var in ("RAY_ADDRESS", "RAY_API_SERVER_ADDRESS", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_MODE"):
        env.pop(var, None)
    for _ in range(attempts):
        up = run(["bash", str(SCRIPT), "up", str(nodes)], env, timeout=up_timeout)
        if up.returncode == 0 or "failed to start" not in up.stderr:
            break
    try:
        assert up.returncode == 0, f"local.sh up failed:\n{up.stdout}\n{up.stderr}"
        exports = dict(line[len("export "):].split("=", 1) for line in up.stdout.splitlines()
                       if line.startswith("export "))
        yield {**env, **exports, "STATE": str(state), "UP_OUTPUT": up.stdout + up.stderr}
    finally:
        run(["bash", str(SCRIPT), "down"], env, timeout=120)
        leftover = [p for p, s in recorded(state) if alive(p, s)]
        link = state / "nodes_link"
        if link.exists():
            shutil.rmtree(link.read_text().strip(), ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
        assert not leftover, f"pids still alive after down: {leftover}"
