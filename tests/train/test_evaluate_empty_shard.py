"""A worker whose test shard is empty still takes part in every collective of
``evaluate`` (it hung once: the embedding-geometry state was sized by the first batch,
so the empty worker skipped its all-reduce), and both workers get the whole-data result."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from distlm.data.loading import NormStats
from distlm.models import build_model
from distlm.train.evaluate import evaluate
from net_helpers import free_port

SPEC = SimpleNamespace(scenario="ssl", num_outputs=3)
NORM = NormStats(mean=(0.0,), std=(1.0,))


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("small_cnn", 3, in_channels=1, image_size=28, embedding_dim=16,
                       options={"width": 4, "norm": "group"})


def _batches(n: int):
    g = np.random.default_rng(0)
    images = g.integers(0, 255, (n, 28, 28, 1), dtype=np.uint8)
    labels = np.arange(n) % 3
    return [{"images": images[i:i + 4], "labels": labels[i:i + 4]} for i in range(0, n, 4)]


def _worker(rank: int, port: int, out_dir: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        got = evaluate(_model(), _batches(12) if rank == 0 else [], SPEC, NORM, "cpu")
        torch.save({k: torch.tensor(v, dtype=torch.float64) for k, v in got.items()}, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_embedding_dim_is_the_head_input() -> None:
    net = _model()
    assert net.embedding_dim == net.head.fc.in_features == 16


@pytest.mark.slow
def test_an_empty_shard_neither_hangs_nor_changes_the_result(tmp_path: Path) -> None:
    ctx = mp.start_processes(_worker, args=(free_port(), str(tmp_path)), nprocs=2, join=False, start_method="spawn")
    for p in ctx.processes:
        p.join(timeout=120)
    alive = [p for p in ctx.processes if p.is_alive()]
    for p in alive:
        p.kill()
    assert not alive, "evaluate() hung with one worker's test shard empty"
    whole = evaluate(_model(), _batches(12), SPEC, NORM, "cpu")
    assert {"ece", "nll", "emb_margin"} <= set(whole)
    for rank in range(2):
        got = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        assert {k: float(v) for k, v in got.items()} == pytest.approx(whole, rel=1e-9, abs=1e-12)
