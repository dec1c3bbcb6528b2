"""``sync()`` under torch.distributed (gloo, 2 processes) gives the whole-data result."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from distlm.metrics import AUMetrics, CalibrationMetrics, EmbeddingGeometry, ExpressionMetrics, known_mask
from net_helpers import free_port

AUS = [1, 2, 4, 5, 6, 9, 12, 17, 20, 25, 26, 43]
WORLD = 2


def _data() -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(123)
    logits = torch.randn(101, 7, generator=g)
    labels = torch.randint(0, 7, (101,), generator=g)
    scores = torch.rand(101, 12, generator=g)
    aus = (torch.rand(101, 12, generator=g) < 0.3).float()
    aus[torch.rand(101, 12, generator=g) < 0.15] = 999.0
    return logits, labels, scores, aus


def _worker(rank: int, port: int, out_dir: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    try:
        logits, labels, scores, aus = _data()
        shard = slice(rank, None, WORLD)  # uneven shards: 51 and 50 samples
        em, am = ExpressionMetrics(7), AUMetrics(AUS)
        cm, gm = CalibrationMetrics(ignore_index=-1), EmbeddingGeometry(7, 12)
        em.update(logits[shard], labels[shard])
        am.update(scores[shard], aus[shard], known_mask(aus[shard]))
        cm.update(logits[shard], labels[shard])
        gm.update(scores[shard], labels[shard])  # any (N, D) embedding will do
        em.sync()
        am.sync()
        cm.sync()
        gm.sync()
        em.sync()  # a second sync must not reduce again
        try:
            em.update(logits[:1], labels[:1])
            update_after_sync = "allowed"
        except RuntimeError:
            update_after_sync = "refused"
        result = {"confmat": em.confmat, "counts": am.counts, "expr": em.compute(), "au": am.compute(),
                  "calib": cm.compute(), "geometry": gm.compute(),
                  "update_after_sync": update_after_sync}
        torch.save(result, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_sync_gives_the_whole_data_result(tmp_path: Path) -> None:
    mp.spawn(_worker, args=(free_port(), str(tmp_path)), nprocs=WORLD, join=True)
    logits, labels, scores, aus = _data()
    em, am = ExpressionMetrics(7), AUMetrics(AUS)
    cm, gm = CalibrationMetrics(ignore_index=-1), EmbeddingGeometry(7, 12)
    em.update(logits, labels)
    am.update(scores, aus, known_mask(aus))
    cm.update(logits, labels)
    gm.update(scores, labels)
    for rank in range(WORLD):
        got = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        assert torch.equal(got["confmat"], em.confmat)
        assert torch.equal(got["counts"], am.counts)
        assert got["expr"] == em.compute()
        assert got["au"] == am.compute()
        assert got["calib"] == pytest.approx(cm.compute(), rel=1e-12)
        assert got["geometry"] == pytest.approx(gm.compute(), rel=1e-12)
        assert got["update_after_sync"] == "refused"
