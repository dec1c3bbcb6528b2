"""distlm.ray_local: the local single-node Ray (tests, demo, laptop runs) lives on
127.0.0.1 only, and the switch that puts it there does not outlive the start.

Plain ``ray.init(address="local")`` registers the node under the interface that
routes outward (it did here: 192.0.2.2), even with ``_node_ip_address="127.0.0.1"``.
"""
from __future__ import annotations

import os

import pytest

from distlm.ray_local import LOOPBACK, connect_or_start, init_local


def test_every_address_of_the_shared_session_is_loopback(ray_shared) -> None:
    ray = ray_shared
    assert ray.util.get_node_ip_address() == LOOPBACK
    nodes = [n for n in ray.nodes() if n["Alive"]]
    assert nodes and {n["NodeManagerAddress"] for n in nodes} == {LOOPBACK}
    assert ray.get_runtime_context().gcs_address.startswith(LOOPBACK + ":")

    @ray.remote
    def where() -> str:
        return ray.util.get_node_ip_address()

    assert ray.get(where.remote()) == LOOPBACK


def test_the_switch_is_restored_after_the_start(ray_shared) -> None:
    from ray._private import ray_constants

    assert ray_constants.ENABLE_RAY_CLUSTER is True
    assert "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER" not in os.environ


@pytest.mark.parametrize("key", ["address", "_node_ip_address"])
def test_init_local_refuses_to_be_pointed_elsewhere(key) -> None:
    with pytest.raises(TypeError, match=key):
        init_local(**{key: "10.0.0.1"})


def test_connect_or_start_reuses_nothing_when_asked_for_local(monkeypatch) -> None:
    calls = []
    monkeypatch.setattr("distlm.ray_local.init_local", lambda **kw: calls.append(kw))
    assert connect_or_start("local", local={"num_cpus": 3}, log_to_driver=False) is True
    assert calls == [{"num_cpus": 3, "log_to_driver": False}]


def test_connect_or_start_falls_back_to_loopback_without_a_cluster(monkeypatch) -> None:
    import ray

    def no_cluster(address=None, **kw):
        assert address == "auto"
        raise ConnectionError("no running cluster")

    calls = []
    monkeypatch.setattr(ray, "init", no_cluster)
    monkeypatch.setattr("distlm.ray_local.init_local", lambda **kw: calls.append(kw))
    assert connect_or_start(None, local={"num_cpus": 2}) is True
    assert calls == [{"num_cpus": 2}]


def test_connect_or_start_passes_an_address_through(monkeypatch) -> None:
    import ray

    seen = []
    monkeypatch.setattr(ray, "init", lambda address=None, **kw: seen.append((address, kw)))
    assert connect_or_start("127.0.0.1:6379", local={"num_cpus": 2}, log_to_driver=True) is False
    assert seen == [("127.0.0.1:6379", {"log_to_driver": True})]
