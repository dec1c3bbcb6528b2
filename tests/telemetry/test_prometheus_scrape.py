"""A real Prometheus server scrapes the trainer and the prepare pipeline.

One ``prometheus`` (Debian package; 1 s scrape interval, 127.0.0.1, temp TSDB) scrapes
two fixed loopback ports: ``python -m distlm.prepare --metrics-port`` (a CLI run on a
few images, joined to this module's Ray session) and the trainer's rank-0 exporter
(``telemetry.metrics_port``: the worker's telemetry and exporter driven in this
process; inside a Ray Train worker it is checked by tests/train/test_train_ray.py).
Nothing here races the clock: each exporter stays up after its run until Prometheus
holds two scrapes of its final values (prepare through ``--metrics-linger``, ended
by SIGTERM once they are there; the trainer's by this process), bounded by a timeout
only a real failure reaches. When the runs are over the series are
read back as raw samples (``metric[10m]``: range selectors skip the staleness markers
written when a target goes away) and with a plain instant query at the time of the
last sample. Prometheus is stopped by its own process group.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest
from net_helpers import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
FMNIST = "/usr/share/datasets/fashion-mnist"
N_IMAGES = 4


class Prometheus:
    """A ``prometheus`` subprocess on 127.0.0.1 and its HTTP query API."""

    def __init__(self, workdir: Path, targets: Dict[str, int]):
        exe = shutil.which("prometheus")
        if exe is None:
            pytest.fail("prometheus is not installed: apt-get install -y prometheus")
        self.port = free_port()
        jobs = "".join(f"  - job_name: {job}\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
                       for job, port in targets.items())
        config = workdir / "prometheus.yml"
        config.write_text("global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
                          f"scrape_configs:\n{jobs}")
        self.log = open(workdir / "prometheus.log", "w")
        self.proc = subprocess.Popen(
            [exe, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{self.port}",
             f"--storage.tsdb.path={workdir / 'tsdb'}", "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 60
        while not self._ready():
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                pytest.fail(f"prometheus did not start: {(workdir / 'prometheus.log').read_text()[-2000:]}")
            time.sleep(0.2)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def query(self, expr: str, at: Optional[float] = None) -> List[dict]:
        """``/api/v1/query`` results (each ``{"metric": labels, "value"|"values": ...}``)."""
        params = {"query": expr, **({"time": f"{at:.3f}"} if at is not None else {})}
        url = f"http://127.0.0.1:{self.port}/api/v1/query?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.loads(r.read())
        assert body["status"] == "success", body
        return body["data"]["result"]

    def samples(self, name: str) -> Dict[str, List[tuple]]:
        """Raw ``(time, value)`` samples of every series of ``name`` in the last 10 min."""
        return {json.dumps(r["metric"], sort_keys=True): [(float(t), float(v)) for t, v in r["values"]]
                for r in self.query(f"{name}[10m]")}

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: only what we started
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)
        self.log.close()


@pytest.fixture(scope="module")
def scraped(ray_shared, tmp_path_factory) -> Iterator[Dict[str, object]]:
    """Prometheus up, then a prepare run and a training run, each exporting on its port."""
    if not os.path.exists(os.path.join(FMNIST, "train-images-idx3-ubyte.gz")):
        pytest.fail(f"{FMNIST} missing: run `make data` (apt-get install dataset-fashion-mnist)")
    ray = ray_shared
    work = tmp_path_factory.mktemp("prom")
    ports = {"distlm-prepare": free_port(), "distlm-train": free_port()}
    prom = Prometheus(work, ports)
    try:
        t0 = time.time()
        prep = _run_prepare(work, ports["distlm-prepare"], ray.get_runtime_context().gcs_address, prom)
        t_prep = time.time() - t0
        t0 = time.time()
        steps = _run_training(work, ports["distlm-train"], prom)
        t_train = time.time() - t0
        yield {"prom": prom, "prepare": prep, "steps": steps, "t_prep": t_prep, "t_train": t_train}
    finally:
        prom.stop()


def _run_prepare(work: Path, port: int, address: str, prom: Prometheus) -> str:
    """The prepare CLI on a few images, its exporter held up after the run
    (``--metrics-linger``) until Prometheus has scraped the final counts twice, then
    ended by SIGTERM; returns its output."""
    import cv2
    from skimage import data as skdata

    src = work / "faces"
    src.mkdir()
    face = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
    for i in range(N_IMAGES):
        cv2.imwrite(str(src / f"astronaut{i}.jpg"), face)
    log = work / "prepare.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "distlm.prepare", "--input", str(src), "--output", str(work / "crops"),
             "--detector", "haar", "--size", "64", "--shard-size", "1", "--actors", "1",
             "--address", address, "--metrics-port", str(port), "--log-every", "1", "--metrics-linger", "600"],
            cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 300
        final = f'distlm_prepare_slices_done{{job="distlm-prepare"}}'
        while sum(v == N_IMAGES for s in prom.samples(final).values() for _, v in s) < 2:
            assert proc.poll() is None, f"prepare exited while lingering:\n{log.read_text()[-3000:]}"
            assert time.time() < deadline, f"Prometheus did not scrape prepare's final counts twice in 300 s:\n" \
                                           f"{log.read_text()[-3000:]}"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
    return log.read_text()


def _run_training(work: Path, port: int, prom: Prometheus) -> int:
    """The trainer's rank-0 telemetry and exporter, driven in this process (no Ray: the
    exporter inside a Ray Train worker is checked by tests/train/test_train_ray.py);
    the exporter stays up until Prometheus holds two scrapes of the last step."""
    from distlm.config import load_job
    from distlm.telemetry.server import start_metrics_server, stop_metrics_server
    from distlm.telemetry.trainer import TrainerTelemetry
    from distlm.train.loop import Worker

    spec = load_job(str(REPO / "jobs" / "local-smoke.yaml"), [
        "train.epochs=3", "train.steps_per_epoch=5", "data.labels_per_class=10", "scaling.num_workers=1",
        "model.options={width: 8, norm: group}", "model.embedding_dim=16", "train.log_every=100",
        f"telemetry.metrics_port={port}", "telemetry.host=127.0.0.1", f"run.storage_path={work / 'runs'}"])
    w = Worker(spec)
    telemetry = TrainerTelemetry(True, spec.data.class_names)
    assert start_metrics_server(spec.telemetry.metrics_port, spec.telemetry.host) == port
    try:
        while w.epoch < spec.train.epochs:
            w.run_epoch(telemetry)
        deadline = time.time() + 60
        while sum(v == w.step for s in prom.samples("distlm_train_step").values() for _, v in s) < 2:
            assert time.time() < deadline, "Prometheus did not scrape the last step twice in 60 s"
            time.sleep(0.2)
    finally:
        stop_metrics_server(port)
    return w.step


def _finite_series(prom: Prometheus, name: str, min_samples: int = 2) -> Dict[str, List[tuple]]:
    series = prom.samples(name)
    assert series, f"Prometheus holds no series {name}"
    for labels, samples in series.items():
        assert len(samples) >= min_samples, f"{name}{labels}: {len(samples)} scrape(s) only"
        assert all(math.isfinite(v) for _, v in samples), f"{name}{labels}: {samples}"
    return series


def test_trainer_throughput_and_loss_scraped(scraped):
    prom = scraped["prom"]
    ips = _finite_series(prom, "distlm_train_images_per_second")
    # 0 before the first step is reported (a scrape may land then); positive after
    values = [v for s in ips.values() for _, v in s]
    assert all(v >= 0 for v in values) and max(values) > 0, values
    loss = _finite_series(prom, "distlm_train_loss")
    terms = {json.loads(k)["term"] for k in loss}
    assert {"loss", "loss_supervised"} <= terms, terms
    assert all(json.loads(k)["job"] == "distlm-train" for k in loss)
    steps = [v for s in prom.samples("distlm_train_step").values() for _, v in s]
    assert max(steps) == scraped["steps"] > 0
    print(f"train: {len(next(iter(ips.values())))} scrapes in {scraped['t_train']:.1f}s of training")


def test_plain_instant_query_answers_at_the_last_scrape(scraped):
    prom = scraped["prom"]
    for name in ("distlm_train_images_per_second", "distlm_train_loss"):
        last = max(t for s in prom.samples(name).values() for t, _ in s)
        result = prom.query(name, at=last)
        assert result, f"instant query {name} at {last} returned nothing"
        assert all(math.isfinite(float(r["value"][1])) for r in result)


def test_prepare_metrics_scraped(scraped):
    # selected by job: the trainer's in-process exporter serves this test process's
    # registry, which may hold prepare metrics of earlier in-process prepare tests
    prom = scraped["prom"]
    inputs = _finite_series(prom, 'distlm_prepare_inputs_total{job="distlm-prepare"}')
    assert {v for s in inputs.values() for _, v in s} == {float(N_IMAGES)}
    assert all(json.loads(k)["job"] == "distlm-prepare" for k in inputs)
    slices = _finite_series(prom, 'distlm_prepare_slices_total{job="distlm-prepare"}')
    assert {v for s in slices.values() for _, v in s} == {float(N_IMAGES)}  # --shard-size 1
    print(f"prepare: {len(next(iter(inputs.values())))} scrapes in {scraped['t_prep']:.1f}s")
