"""One process vs. 2 gloo ranks on loopback, for DDP exactness tests (imported by name;
``tests/`` is on ``sys.path`` through ``tests/conftest.py``).

A test writes ``run(rank, world, out_dir, port)``: ``join(rank, world, port)`` first,
``save_results(results, out_dir, rank, world)`` last; :func:`one_and_two_ranks` runs
it once in this process (world 1) and on 2 spawned ranks, and returns the three saved
results.
"""
import os
from typing import Any, Dict, Tuple

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from net_helpers import free_port


def join(rank: int, world: int, port: int) -> None:
    """Join the gloo group on 127.0.0.1 (nothing to join for world 1)."""
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)


def save_results(results: Dict[str, Any], out_dir: str, rank: int, world: int) -> None:
    torch.save(results, os.path.join(out_dir, f"rank{rank}_of{world}.pt"))
    if world > 1:
        dist.destroy_process_group()


def one_and_two_ranks(run, out_dir: str) -> Tuple[Dict[str, Any], Dict[str, Any], Dict[str, Any]]:
    """``(single process, rank 0 of 2, rank 1 of 2)`` results of ``run``."""
    run(0, 1, out_dir, 0)
    mp.spawn(run, args=(2, out_dir, free_port()), nprocs=2, join=True)
    load = lambda f: torch.load(os.path.join(out_dir, f), weights_only=True)
    return load("rank0_of1.pt"), load("rank0_of2.pt"), load("rank1_of2.pt")
