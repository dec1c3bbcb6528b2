"""distlm.ray_local: which Ray a driver joins or starts (no Ray started here; the
loopback binding itself is checked on a real instance in tests/train/test_train_ray.py)."""
from __future__ import annotations

import pytest

ray = pytest.importorskip("ray")

from distlm import ray_local  # noqa: E402


@pytest.fixture
def calls(monkeypatch):
    """Record ``ray.init`` calls with the value of Ray's cluster switch at that moment."""
    from ray._private import ray_constants

    class Seen(list):
        fake = None

    seen = Seen()

    def fake_init(address=None, **kw):
        seen.append((address, ray_constants.ENABLE_RAY_CLUSTER, kw))
        if address == "auto" and not fake_init.cluster:
            raise ConnectionError("Could not find any running Ray instance")
        return address

    fake_init.cluster = False
    monkeypatch.setattr(ray, "init", fake_init)
    seen.fake = fake_init
    return seen


def test_no_cluster_starts_a_loopback_local_instance(calls):
    from ray._private import ray_constants

    before = ray_constants.ENABLE_RAY_CLUSTER
    ray_local.connect_or_start(None, num_cpus=2)
    assert calls == [("auto", before, {}), ("local", False, {"num_cpus": 2})]
    assert ray_constants.ENABLE_RAY_CLUSTER == before  # restored


def test_a_running_cluster_is_joined_and_addresses_pass_through(calls):
    calls.fake.cluster = True
    assert ray_local.connect_or_start(None, num_cpus=2) == "auto"
    assert ray_local.connect_or_start("ray://10.0.0.1:10001") == "ray://10.0.0.1:10001"
    assert ray_local.connect_or_start("local", num_cpus=1) == "local"
    assert [(a, on) for a, on, _ in calls] == [("auto", True), ("ray://10.0.0.1:10001", True), ("local", False)]


def test_switch_restored_when_init_fails(monkeypatch):
    from ray._private import ray_constants

    def boom(**kw):
        raise RuntimeError("no")

    monkeypatch.setattr(ray, "init", boom)
    with pytest.raises(RuntimeError):
        ray_local.start_local()
    assert ray_constants.ENABLE_RAY_CLUSTER
