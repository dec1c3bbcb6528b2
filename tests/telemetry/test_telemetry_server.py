"""The metrics endpoint answers on loopback with the names docs/prepare.md documents."""
from __future__ import annotations

import re
import socket
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from distlm.telemetry import (ANY_PORT, DISABLED, MetricsPortInUse, get_registry, start_metrics_server,
                              stop_metrics_server)
from distlm.telemetry.pipeline import PrepareMetrics

DOC = Path(__file__).resolve().parents[2] / "docs" / "prepare.md"


def documented_names() -> list:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    return sorted(set(re.findall(r"`(distlm_prepare_[a-z_]+)", section)))


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        assert resp.status == 200
        return resp.read().decode()


def test_disabled_values_start_nothing():
    assert start_metrics_server(None) is None
    assert start_metrics_server(DISABLED) is None
    with pytest.raises(ValueError):
        start_metrics_server(70000)


def test_endpoint_serves_documented_prepare_metrics():
    names = documented_names()
    assert len(names) >= 6
    registry = CollectorRegistry()
    metrics = PrepareMetrics.for_registry(registry)
    assert PrepareMetrics.for_registry(registry) is metrics  # registered once
    metrics.record_slice({"ok": 3, "no_face": 1}, {"no_face": 1}, faces=4)
    port = start_metrics_server(ANY_PORT, registry=registry)
    try:
        assert port and port > 0
        body = scrape(port)
    finally:
        stop_metrics_server(port)
    for name in names:
        assert re.search(rf"^{name}(\{{|\s)", body, re.M), f"{name} missing from /metrics"
    assert 'distlm_prepare_images_total{outcome="ok"} 3.0' in body
    assert "distlm_prepare_faces_found_total 4.0" in body


def test_binds_loopback_only_and_fixed_port_is_used():
    with socket.socket() as s:  # find a free port, then ask for it explicitly
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    port = start_metrics_server(free)
    try:
        assert port == free
        scrape(port)
        with pytest.raises(MetricsPortInUse):
            start_metrics_server(free)  # taken
    finally:
        stop_metrics_server(port)


def test_shared_registry_is_one_object():
    assert get_registry() is get_registry()


def _held_port():
    """A socket listening on a loopback port, as another job's exporter would."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, s.getsockname()[1]


def test_a_taken_port_is_one_line_naming_the_port_and_the_setting():
    held, port = _held_port()
    with held:
        with pytest.raises(MetricsPortInUse) as err:
            start_metrics_server(port)
        msg = str(err.value)
        assert "\n" not in msg
        assert f"telemetry.metrics_port={port}" in msg and "telemetry.metrics_port=-1" in msg
        with pytest.raises(MetricsPortInUse, match=f"--metrics-port={port}"):
            start_metrics_server(port, setting="--metrics-port")
        other = start_metrics_server(ANY_PORT)  # the default: any free port, never a collision
        try:
            assert other not in (None, port)
            scrape(other)
        finally:
            stop_metrics_server(other)


def test_the_trainer_default_is_any_free_port():
    from distlm.config import TelemetrySpec

    assert TelemetrySpec().metrics_port == ANY_PORT


def test_prepare_with_a_taken_port_exits_2_with_one_line(tmp_path):
    import subprocess
    import sys

    from distlm.images import synthetic as syn

    src = tmp_path / "in"
    src.mkdir()
    (src / "a.png").write_bytes(syn.encode(syn.gradient(20, 20), "PNG"))
    held, port = _held_port()
    with held:
        out = subprocess.run([sys.executable, "-m", "distlm.prepare", "--input", str(src), "--output",
                              str(tmp_path / "out"), "--detector", "none", "--metrics-port", str(port)],
                             capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert out.returncode == 2, out.stderr[-3000:]
    assert "Traceback" not in out.stderr
    errors = [ln for ln in out.stderr.splitlines() if "error" in ln]
    assert len(errors) == 1 and f"--metrics-port={port}" in errors[0] and "already in use" in errors[0], out.stderr
