"""Session-wide fixtures.

``ray_shared``: one local Ray instance (4 logical CPUs, no dashboard) shared by every
test module that needs a plain single-node Ray: started by the first module that asks,
kept for the next ones, shut down at the end of the session (starting Ray costs ~7 s
on 2 cores). A module that needs a Ray of its own (e.g. one whose workers must inherit
environment variables) shuts the shared one down first; the next module that asks
starts it again. Multi-node tests start their clusters in subprocesses through
``cluster/local.sh`` and never touch this one.
"""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def _ray_down_at_exit():
    yield
    import ray

    if ray.is_initialized():
        ray.shutdown()


@pytest.fixture(scope="module")
def ray_shared(_ray_down_at_exit):
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(address="local", num_cpus=4, include_dashboard=False, log_to_driver=False)
    return ray
