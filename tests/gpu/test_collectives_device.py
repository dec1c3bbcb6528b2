"""Every collective of a training step runs on the model's device, for every job spec.

Two gloo ranks take two steps of each job in ``jobs/`` (made tiny by ``job_smoke``:
synthetic data, a small CNN, the job's own objective, self-labelling and weighting),
with ``torch.distributed``'s collectives wrapped by a spy that records the device of
every tensor they are given. On a CUDA machine the ranks share the GPU (gloo takes
CUDA tensors), and a tensor moved to the host before its reduce (which a pure NCCL
group would refuse) shows up as ``cpu``; on CPU the test still checks that the
objective's collectives are called at all and that DDP never meets gradients whose
strides differ from its buckets (the "Grad strides do not match" warning is an error;
PyTorch emits it once per process, so it fails the first job that meets it).
"""
from __future__ import annotations

import json
import os
import warnings

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from job_smoke import JOBS, tiny_job
from net_helpers import free_port

pytestmark = pytest.mark.gpu
SPIED = ("all_reduce", "all_gather", "all_gather_into_tensor", "broadcast", "reduce_scatter_tensor",
         "all_to_all_single", "reduce")


def _device() -> str:
    return "cuda:0" if torch.cuda.is_available() else "cpu"


def _run(rank: int, world: int, port: int, out: str) -> None:
    from distlm.train.loop import Worker
    from distlm.train.parallel import wrap_model

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    torch.set_num_threads(1)
    calls = []
    originals = {name: getattr(dist, name) for name in SPIED if hasattr(dist, name)}

    def spy(name):
        def wrapped(tensor, *args, **kwargs):
            ts = tensor if isinstance(tensor, (list, tuple)) else [tensor]
            calls.append((name, sorted({str(t.device) for t in ts if isinstance(t, torch.Tensor)})))
            return originals[name](tensor, *args, **kwargs)
        return wrapped

    for name in originals:
        setattr(dist, name, spy(name))
    results = {}
    try:
        for job in JOBS:
            calls.clear()
            with warnings.catch_warnings():
                warnings.filterwarnings("error", message=".*[Gg]rad strides do not match.*")
                try:
                    w = Worker(tiny_job(job, world), rank, world, _device())
                    w.model = wrap_model(w.model, w.device, world)
                    for batch in w.loader.epoch(0):
                        w.train_step(batch)
                    param = str(next(w.model.parameters()).device)
                    results[job] = {"param": param, "calls": list(calls), "error": None}
                except Exception as err:  # reported per job by the test
                    results[job] = {"param": None, "calls": list(calls), "error": f"{type(err).__name__}: {err}"}
    finally:
        for name, fn in originals.items():
            setattr(dist, name, fn)
        with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
            json.dump(results, f)
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def spied(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("spy"))
    mp.spawn(_run, args=(2, free_port(), out), nprocs=2, join=True)
    return [json.load(open(os.path.join(out, f"rank{r}.json"))) for r in range(2)]


def test_every_job_spec_is_covered(spied):
    assert len(JOBS) >= 50 and all(set(r) == set(JOBS) for r in spied)


@pytest.mark.parametrize("job", JOBS)
def test_every_collective_runs_on_the_parameters_device(spied, job):
    for rank, results in enumerate(spied):
        r = results[job]
        assert r["error"] is None, f"rank {rank}: {r['error']}"
        off = [(name, devices) for name, devices in r["calls"] if devices != [r["param"]]]
        assert not off, f"rank {rank}: collectives on another device than the parameters ({r['param']}): {off}"


def test_the_objective_reduces_through_the_spied_functions(spied):
    """Not vacuous: the jobs with centroids, thresholds or auto weighting do reduce."""
    for job in ("rafdb.yaml", "emotionet.yaml", "fmnist/ssl/lm_flexmatch_mu2_teacher.yaml"):
        assert any(name == "all_reduce" for name, _ in spied[0][job]["calls"]), job
