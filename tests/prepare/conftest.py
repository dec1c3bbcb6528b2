"""One local Ray instance per test module of tests/prepare (2 CPUs, no dashboard)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
