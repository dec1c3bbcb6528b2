"""Zipping two per-worker streams (the Ray source's logic, without Ray)."""
import numpy as np
import pytest
import torch

from distlm.data.loading import LOADERS, DomainBatch, LoaderSpec
from distlm.data.loading.zipping import CycledStream, zip_epoch


def stream(n, b, offset=0):
    """A fake shard: ``seed ↦`` one pass, rows shuffled by ``seed``, ids in ``labels``."""
    def one_pass(seed):
        order = np.random.default_rng(seed).permutation(n) + offset
        for i in range(0, n - b + 1, b):
            rows = torch.from_numpy(order[i:i + b])
            yield DomainBatch(torch.zeros(b, 4, 4, 1, dtype=torch.uint8) + rows[:, None, None, None].to(torch.uint8),
                              rows, torch.zeros(b, 0), torch.zeros(b, 0, dtype=torch.bool))
    return one_pass


def run(epoch, seed=0, epoch_on="labelled", n_l=24, n_u=40, batch=12, ratio=2.0, cap=None, source=None):
    spec = LoaderSpec(batch, ratio, 0, 1, seed, epoch_on, cap)
    sizes = spec.sizes
    loader = LOADERS.create("ray", spec=spec, labelled=stream(n_l, sizes.local_l),
                            unlabelled=stream(n_u, sizes.local_u, 100))
    return [(b.y_l.tolist(), b.x_u[:, 0, 0, 0].mul(255).round().long().tolist()) for b in loader.epoch(epoch)]


def test_ratio_and_epoch_on_labelled():
    steps = run(0)
    assert len(steps) == 24 // 4
    assert all(len(l) == 4 and len(u) == 8 for l, u in steps)
    assert sorted(i for l, _ in steps for i in l) == list(range(24))


def test_epoch_on_unlabelled_cycles_labelled():
    steps = run(0, epoch_on="unlabelled", n_u=56)
    assert len(steps) == 56 // 8
    assert sorted(i for _, u in steps for i in u) == list(range(100, 156))
    lab = [i for l, _ in steps for i in l]
    assert sorted(lab[:24]) == list(range(24))  # one whole labelled pass, then a new one began
    assert len(lab) == 28 and len(set(lab[24:])) == 4


def test_same_seed_same_contents_other_seed_differs():
    assert run(1, seed=3) == run(1, seed=3)
    assert run(1, seed=3) != run(1, seed=4)
    assert run(0) != run(1)


def test_cycled_stream_reshuffles_each_pass_and_checks_empty():
    cyc = CycledStream(stream(6, 3), seed=0, side="unlabelled")
    rows = [next(cyc).labels.tolist() for _ in range(4)]
    assert sorted(rows[0] + rows[1]) == sorted(rows[2] + rows[3]) == list(range(6))
    assert rows[:2] != rows[2:] and cyc.passes == 1
    with pytest.raises(ValueError, match="no batch"):
        next(CycledStream(lambda seed: iter(()), 0, "unlabelled"))


def test_cap_and_wrong_batch_size():
    assert len(run(0, cap=2)) == 2
    bad = zip_epoch(stream(8, 3)(0), None, "labelled", local_l=4, local_u=0, empty_unlabelled=lambda b: b)
    with pytest.raises(ValueError, match="expected 4"):
        next(bad)
