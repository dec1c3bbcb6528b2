"""One process vs. 2 gloo ranks on loopback, for DDP exactness tests (imported by name;
``tests/`` is on ``sys.path`` through ``tests/conftest.py``).

A test writes ``run(rank, world, out_dir, port)``: ``join(rank, world, port)`` first,
``save_results(results, out_dir, rank, world)`` last; :func:`one_and_two_ranks` runs
it once in this process (world 1) and on 2 spawned ranks, and returns the three saved
results.

Every run is in float64 (``torch.get_default_dtype()`` is float64 inside ``run``: the
model, the data and the state the code under test creates). Two ranks sum their halves
in another order than one process sums the whole batch; in float32 that difference is
the CPU's rounding (its kernels, its vector width) amplified by the steps, and an
equality test at 1e-6 passes on one CPU and fails on another. In float64 the same
difference is ~1e-15, so :data:`ATOL` = :data:`RTOL` = 1e-10 is as strict in intent and
holds on every CPU.
"""
import os
from typing import Any, Callable, Dict, Tuple

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from net_helpers import free_port

ATOL = RTOL = 1e-10


def join(rank: int, world: int, port: int) -> None:
    """Join the gloo group on 127.0.0.1 (nothing to join for world 1)."""
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)


def save_results(results: Dict[str, Any], out_dir: str, rank: int, world: int) -> None:
    torch.save(results, os.path.join(out_dir, f"rank{rank}_of{world}.pt"))
    if world > 1:
        dist.destroy_process_group()


def _in_float64(rank: int, run: Callable, world: int, out_dir: str, port: int) -> None:
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        run(rank, world, out_dir, port)
    finally:
        torch.set_default_dtype(before)


def one_and_two_ranks(run, out_dir: str) -> Tuple[Dict[str, Any], Dict[str, Any], Dict[str, Any]]:
    """``(single process, rank 0 of 2, rank 1 of 2)`` results of ``run``, all in float64."""
    _in_float64(0, run, 1, out_dir, 0)
    mp.spawn(_in_float64, args=(run, 2, out_dir, free_port()), nprocs=2, join=True)
    load = lambda f: torch.load(os.path.join(out_dir, f), weights_only=True)
    return load("rank0_of1.pt"), load("rank0_of2.pt"), load("rank1_of2.pt")


def assert_equal_in_float64(got: Dict[str, Any], want: Dict[str, Any], keys) -> None:
    """``got[k] == want[k]`` to :data:`ATOL`/:data:`RTOL` for each key; every floating
    tensor compared must be float64 (a float32 one means the run did not stay in float64)."""
    for k in keys:
        if want[k].is_floating_point():
            assert want[k].dtype == got[k].dtype == torch.float64, (k, want[k].dtype, got[k].dtype)
        torch.testing.assert_close(got[k], want[k], atol=ATOL, rtol=RTOL, msg=lambda m, k=k: f"{k}: {m}")
