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
    monkeypatch.setattr(ray_local, "_auto_address", lambda: None)  # no RAY_ADDRESS, no `ray start`
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


def test_loopback_addresses_are_recognised():
    for address in ("127.0.0.1:6379", "ray://127.0.0.1:10001", "localhost:6379", "[::1]:6379", "127.0.1.1:1"):
        assert ray_local.is_loopback(address), address
    for address in (None, "", "auto", "local", "10.0.0.1:6379", "ray://head-svc:10001", "192.0.2.2:6379"):
        assert not ray_local.is_loopback(address), address


def test_a_loopback_cluster_is_joined_as_loopback(calls, monkeypatch):
    """A driver joining a cluster on 127.0.0.1 (``--address``, or ``RAY_ADDRESS`` as
    ``ray job submit`` sets it) must take 127.0.0.1 as its own node address."""
    calls.fake.cluster = True
    ray_local.connect_or_start("127.0.0.1:6379")
    ray_local.connect_or_start("10.0.0.1:6379")
    monkeypatch.setattr(ray_local, "_auto_address", lambda: "127.0.0.1:6380")
    ray_local.connect_or_start(None)
    assert [(a, on) for a, on, _ in calls] == [("127.0.0.1:6379", False), ("10.0.0.1:6379", True), ("auto", False)]


def test_auto_address_reads_ray_address(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:7000")
    assert ray_local._auto_address() == "127.0.0.1:7000"


def test_an_older_ray_is_refused_in_one_line_and_a_newer_one_warned(caplog):
    from distlm.errors import UserError
    from distlm.ray_local import check_ray_version

    with pytest.raises(UserError, match=r"Ray 2.40.0 is installed; distlm needs Ray 2.60.x \(pip install"):
        check_ray_version("2.40.0")
    check_ray_version("2.60.3")
    assert not caplog.records
    check_ray_version("2.61.0")
    assert "newer than the tested 2.60.x" in caplog.text
