"""The metrics endpoint answers on loopback with the names docs/prepare.md documents."""
from __future__ import annotations

import re
import socket
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from distlm.telemetry import ANY_PORT, DISABLED, get_registry, start_metrics_server, stop_metrics_server
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
        with pytest.raises(OSError):
            start_metrics_server(free)  # taken
    finally:
        stop_metrics_server(port)


def test_shared_registry_is_one_object():
    assert get_registry() is get_registry()
