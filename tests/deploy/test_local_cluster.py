"""cluster/local.sh: a 3-node Ray cluster on loopback comes up, answers, runs a
training job that survives losing a node, and goes away.

One cluster for the module (start-up costs ~15-35 s); its state lives in a short temp
folder (unix socket paths must stay under 108 characters). Every node has **one CPU**,
so the job's two Train workers (1 CPU each) land on two different nodes. Once the
run's first ``checkpoint_*`` is registered, every process of a non-head node that hosts
a Train worker is SIGKILLed (its process group and descendants, as a lost machine
would be). Ray Train (``run.max_failures=2``) must restart the worker group on the two
nodes left, restore the last checkpoint ("resumed at epoch" in the job's log), finish
every epoch and print its final metrics. `down` must then leave none of the recorded
pids alive; only those pids are ever signalled, so other Ray clusters are untouched.
"""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Dict, Iterator, Optional

import pytest

import deploy_manifests as dm
from cluster_helpers import RAY, SCRIPT, alive as _alive, local_cluster, recorded as _recorded, run as _run
from node_kill import kill_node, node_of, nodes as recorded_nodes, ray_cli, train_worker_pids, wait_for

from distlm.checkpoint.state import load_state

pytestmark = pytest.mark.slow

EPOCHS = 6
OVERRIDES = [f"train.epochs={EPOCHS}", "train.steps_per_epoch=8", "data.labels_per_class=10",
             "model.options={width: 8, norm: group}", "model.embedding_dim=16", "train.log_every=100",
             "run.max_failures=2", "run.checkpoint_every=1", "run.keep=1"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Dict[str, str]]:
    # one CPU per node: the two Train workers land on two different nodes, and two
    # nodes remain to restart on after one is killed
    with local_cluster(nodes=3, cpus_per_node=1, object_store_mb=200, prefix="dlc",
                       attempts=2, up_timeout=400) as env:
        yield env


def _token(cluster) -> str:
    return (Path(cluster["STATE"]) / "auth_token").read_text().strip()


def test_up_prints_auth_and_addresses_but_not_the_token(cluster) -> None:
    assert cluster["RAY_AUTH_MODE"] == "token"
    assert "RAY_AUTH_TOKEN" not in cluster
    token_file = Path(cluster["STATE"]) / "auth_token"
    assert cluster["RAY_AUTH_TOKEN_PATH"] == str(token_file)
    assert len(_token(cluster)) >= 32
    assert token_file.stat().st_mode & 0o077 == 0, "the token file must be private"
    assert cluster["RAY_ADDRESS"].startswith("127.0.0.1:")
    assert cluster["RAY_API_SERVER_ADDRESS"].startswith("http://127.0.0.1:")
    assert _token(cluster) not in cluster["UP_OUTPUT"]
    env = (Path(cluster["STATE"]) / "env").read_text()
    assert _token(cluster) not in env and (Path(cluster["STATE"]) / "env").stat().st_mode & 0o077 == 0


def test_three_nodes_alive(cluster) -> None:
    out = _run([str(RAY), "list", "nodes", "--address", cluster["RAY_API_SERVER_ADDRESS"],
                "--format", "json"], cluster, timeout=120)
    assert out.returncode == 0, out.stderr
    nodes = json.loads(out.stdout)
    assert sum(n["state"] == "ALIVE" for n in nodes) == 3, nodes
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
    assert len(node_lines) == 3 and all("alive" in ln for ln in node_lines), out.stdout
    for pid, _ in _recorded(Path(cluster["STATE"]))[:3]:
        assert str(pid) in out.stdout


def test_second_up_is_refused_while_running(cluster) -> None:
    out = _run(["bash", str(SCRIPT), "up", "2"], cluster, timeout=60)
    assert out.returncode != 0
    assert "still running" in out.stderr


def test_the_card_command_crops_a_raw_tree_then_trains(cluster, tmp_path) -> None:
    """``ray job submit -- python -m distlm.train JOB.yaml`` on class folders of raw images:
    the job's first stage crops them (Ray Data over the cluster's nodes), then trains."""
    import numpy as np
    import yaml
    from PIL import Image

    rng = np.random.default_rng(0)
    classes = ["happiness", "sadness"]
    for split, n in (("lab", 8), ("test", 3)):
        for label, cls in enumerate(classes):
            for i in range(n):
                img = np.clip(np.array([60 + 120 * label, 90, 160 - 100 * label]) + rng.normal(0, 20, (30, 36, 3)),
                              0, 255).astype(np.uint8)
                (tmp_path / split / cls).mkdir(parents=True, exist_ok=True)
                Image.fromarray(img).save(tmp_path / split / cls / f"{i}.png")
    source = {"format": "folder", "options": {"classes": classes}}
    job = {"name": "raw-tree", "scenario": "expressions", "seed": 0,
           "data": {"image_size": 16, "class_names": classes, "labelled": {**source, "path": str(tmp_path / "lab")},
                    "test": {**source, "path": str(tmp_path / "test")},
                    "crop": {"detector": "none", "shard_size": 4, "max_actors": 2}},
           "model": {"name": "small_cnn", "embedding_dim": 8, "head": "softmax", "options": {"width": 4, "norm": "group"}},
           "loss": {"supervised": "ce", "aux": "lm", "centroids": "ema"},
           "train": {"epochs": 1, "batch_size": 8, "steps_per_epoch": 2, "log_every": 100},
           "scaling": {"num_workers": 1, "use_gpu": False, "cpus_per_worker": 1},
           "run": {"storage_path": str(tmp_path / "runs"), "checkpoint_every": 1, "keep": 1},
           "telemetry": {"metrics_port": 0}}
    (tmp_path / "raw.yaml").write_text(yaml.safe_dump(job))
    sub = ray_cli(cluster, "job", "submit", "--no-wait", "--working-dir", str(dm.REPO), "--", "python", "-m",
                  "distlm.train", str(tmp_path / "raw.yaml"), timeout=300)
    job_id = re.search(r"raysubmit_\w+", sub).group(0)

    def ended() -> Optional[str]:
        found = re.search(r"Job '\w+' (succeeded|failed|was stopped)", ray_cli(cluster, "job", "status", job_id))
        return found.group(1) if found else None

    status = wait_for(ended, 600, f"job {job_id} to end", 2)
    logs = ray_cli(cluster, "job", "logs", job_id)
    assert status == "succeeded", logs[-4000:]
    assert "crop stage: data.labelled" in logs and "crop stage: data.test" in logs
    folders = sorted((tmp_path / "runs" / "crops").iterdir())
    summaries = [json.loads((f / "_summary.json").read_text()) for f in folders]
    assert sorted(s["written"] for s in summaries) == [6, 16] and all(s["cropped"] == s["inputs"] for s in summaries)
    assert list((tmp_path / "runs" / "raw-tree").glob("checkpoint_*"))


@pytest.fixture(scope="module")
def killed_run(cluster, tmp_path_factory) -> Dict[str, object]:
    """Submit the job, kill a worker node after the first checkpoint, wait for the end."""
    runs = tmp_path_factory.mktemp("runs")
    run_dir = runs / "local-smoke"
    sub = ray_cli(cluster, "job", "submit", "--no-wait", "--working-dir", str(dm.REPO), "--", "python", "-m",
                  "distlm.train", "jobs/local-smoke.yaml", "-o", str(runs),
                  *[w for o in OVERRIDES for w in ("--set", o)],
                  timeout=300)
    found = re.search(r"raysubmit_\w+", sub)
    assert found, sub[-3000:]
    job_id = found.group(0)
    t0 = time.time()
    nodes = recorded_nodes(Path(cluster["STATE"]))

    def job_status() -> Optional[str]:
        ended = re.search(r"Job '\w+' (succeeded|failed|was stopped)", ray_cli(cluster, "job", "status", job_id))
        return ended.group(1).upper().replace("WAS ", "") if ended else None

    def workers_up():
        pids = train_worker_pids(cluster)
        assert not (len(pids) < 2 and job_status()), ray_cli(cluster, "job", "logs", job_id)[-4000:]
        return pids if len(pids) == 2 else None

    pids = wait_for(workers_up, 300, "two Train workers", 1)
    hosts = {p: node_of(p, nodes) for p in pids}
    # a checkpoint_* folder is written by the worker before the controller registers it;
    # kill only once the controller's snapshot lists it, so the restart can restore it
    snapshot = run_dir / "checkpoint_manager_snapshot.json"
    first = wait_for(lambda: sorted(run_dir.glob("checkpoint_*/")) if snapshot.exists()
                  and "checkpoint_" in snapshot.read_text() else None, 300, "the first registered checkpoint", 0.1)
    t_ckpt = time.time() - t0
    victims = [n for n in nodes if n[0] != "n0" and n[0] in hosts.values()]
    assert len(hosts) == 2 and len(set(hosts.values())) == 2, f"workers not on two nodes: {hosts}"
    assert victims, f"no worker node hosts a Train worker: {hosts}"
    killed = kill_node(victims[0])
    t_kill = time.time() - t0

    status = wait_for(job_status, 420, f"job {job_id} to end", 2)
    logs = ray_cli(cluster, "job", "logs", job_id)
    return {"status": status, "logs": logs, "submit": sub, "run_dir": run_dir, "first": first, "hosts": hosts,
            "victim": victims[0][0], "killed": killed, "nodes": nodes, "t_ckpt": t_ckpt, "t_kill": t_kill,
            "t_end": time.time() - t0}


def test_workers_spread_over_two_nodes_and_one_was_killed(killed_run, cluster):
    hosts, victim = killed_run["hosts"], killed_run["victim"]
    print(f"workers {hosts}; killed {victim} ({len(killed_run['killed'])} pids) at "
          f"{killed_run['t_kill']:.1f}s, first checkpoint at {killed_run['t_ckpt']:.1f}s, "
          f"job ended at {killed_run['t_end']:.1f}s")
    assert victim in hosts.values()
    alive = [n for n in killed_run["nodes"] if _alive(n[1], n[2])]
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


def test_no_script_or_cli_output_holds_the_token(cluster, killed_run) -> None:
    """``local.sh`` (up, status, env), ``ray job submit`` and the job's own log (the
    trainer's output), all run with the token in force, never print it."""
    outputs = {"up": cluster["UP_OUTPUT"], "job submit": killed_run["submit"], "job logs": killed_run["logs"]}
    for cmd in ("status", "env"):
        res = _run(["bash", str(SCRIPT), cmd], cluster, timeout=60)
        outputs[cmd] = res.stdout + res.stderr
    leaked = [name for name, text in outputs.items() if _token(cluster) in text]
    assert not leaked, f"the auth token appears in the output of {leaked}"


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
    slow = _run(["bash", str(SCRIPT), "up", "1"], {**env, "DISTLM_NODE_DEAD_S": "0.5"}, timeout=30)
    assert slow.returncode == 2 and "DISTLM_NODE_DEAD_S must be a positive integer, got '0.5'" in slow.stderr
    assert _run(["bash", str(SCRIPT), "frobnicate"], env, timeout=30).returncode == 2
    empty = _run(["bash", str(SCRIPT), "status"], env, timeout=30)
    assert empty.returncode == 3 and "no cluster" in empty.stdout
