"""A non-finite loss on one worker stops every worker at the same step, with one error
naming the step and the term, without a collective of its own in the step and without
a hang: the NaN reaches the other worker through the gradient all-reduce."""
from __future__ import annotations

import json
import os
import time

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from job_smoke import tiny_job
from net_helpers import free_port

pytestmark = pytest.mark.slow
BAD_RANK, BAD_STEP = 1, 2


def _run(rank: int, world: int, port: int, out: str) -> None:
    from distlm.telemetry.trainer import TrainerTelemetry
    from distlm.train.loop import NonFiniteLossError, Worker
    from distlm.train.parallel import wrap_model

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    torch.set_num_threads(1)
    result = {"error": None, "step": None}
    try:
        spec = tiny_job("rafdb.yaml", world, "train.log_every=2", "telemetry.log_every=2")
        w = Worker(spec, rank, world, "cpu")
        w.model = wrap_model(w.model, w.device, world)
        for i, batch in enumerate(w.loader.epoch(0)):
            if rank == BAD_RANK and i + 1 == BAD_STEP:
                batch.x_l[0] = float("nan")
            w.take_step(batch)
            if w.metrics.due(w.step):
                w.read_metrics(TrainerTelemetry(False), 1.0)
    except NonFiniteLossError as err:
        result = {"error": str(err), "step": w.step}
    finally:
        with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
            json.dump(result, f)
        dist.destroy_process_group()


def test_every_rank_stops_at_the_same_step_with_the_same_error(tmp_path):
    ctx = mp.start_processes(_run, args=(2, free_port(), str(tmp_path)), nprocs=2, join=False, start_method="spawn")
    deadline = time.monotonic() + 300  # a hang (one rank waiting in a collective) never ends by itself
    while not ctx.join(timeout=1):
        if time.monotonic() > deadline:
            for p in ctx.processes:
                p.kill()
            pytest.fail("the workers did not stop together: one is still running after 300 s")
    results = [json.load(open(tmp_path / f"rank{r}.json")) for r in range(2)]
    assert results[0] == results[1], results
    err = results[0]["error"]
    assert err is not None and results[0]["step"] == BAD_STEP, results
    assert f"non-finite loss at epoch 0 step {BAD_STEP}" in err
    assert "loss_supervised (on 1 of 2 workers)" in err  # the rank whose batch held the NaN
