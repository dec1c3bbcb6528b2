"""Session-wide fixtures.

``ray_shared``: one local Ray instance (4 logical CPUs, no dashboard) shared by every
test module that needs a plain single-node Ray: started by the first module that asks,
kept for the next ones, shut down at the end of the session (starting Ray costs ~7 s
on 2 cores). Its workers carry the loopback moto server's fake credentials
(``net_helpers.MOTO_CREDENTIALS``, a job-level ``runtime_env``), so the S3 tests train
on it too. Multi-node tests start their clusters in subprocesses through
``cluster/local.sh`` and never touch this one.
"""
from __future__ import annotations

import sys

import pytest


def pytest_collection_finish(session):
    """In one process, TensorFlow loaded before torch imports triton (``torch._dynamo``,
    e.g. when an optimizer is built) crashes it with a segmentation fault. So no test
    module may load TensorFlow when it is collected, and triton is imported here, before
    any test runs MTCNN (which loads TensorFlow), whatever subset of tests is run."""
    if "tensorflow" in sys.modules:
        raise pytest.UsageError("a test module imported TensorFlow at collection (e.g. "
                                "pytest.importorskip('mtcnn') at module level); check with "
                                "importlib.util.find_spec instead")
    try:
        import torch._dynamo  # noqa: F401  (imports triton where it is installed)
    except ImportError:
        pass


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
        from net_helpers import MOTO_CREDENTIALS

        from distlm.ray_local import start_local

        # MLflow 3 opens a file: tracking store only with MLFLOW_ALLOW_FILE_STORE set; the
        # MLflow sink's Ray test logs to one from a worker
        start_local(num_cpus=4, include_dashboard=False, log_to_driver=False,
                    runtime_env={"env_vars": {**MOTO_CREDENTIALS, "MLFLOW_ALLOW_FILE_STORE": "true"}})
    return ray


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """Each device-sensitive test on the CPU and, where there is one, on the GPU
    (``pytest -m gpu`` on a GPU machine runs the CUDA cases; elsewhere they skip)."""
    import torch

    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    return torch.device(request.param)
