"""The step budget holds: an epoch takes exactly ``steps_per_epoch`` steps, the
labelled side cycling through further passes within the epoch when it holds fewer
full batches (10 labels per class), and the first pass is what it always was."""
import numpy as np
import pytest
import torch

from distlm.data.loading import DomainArrays, DomainBatch, LoaderSpec
from distlm.data.loading.indices import defining_rows
from distlm.data.loading.memory import MemorySource
from distlm.data.loading.ray_source import RaySource
from distlm.train.budget import resolve_budget


def _perm(n, seed, stream, p, repeat=0):
    key = [seed, stream, p] + ([repeat] if repeat else [])
    return np.random.default_rng(key).permutation(n)


def test_first_pass_unchanged_when_the_budget_fits_in_it():
    rows = defining_rows(n=1000, global_b=100, steps=7, seed=3, stream=0, epoch=2)
    np.testing.assert_array_equal(rows, _perm(1000, 3, 0, 2)[:700].reshape(7, 100))


def test_defining_side_cycles_within_the_epoch_each_pass_dropping_its_tail():
    rows = defining_rows(n=250, global_b=100, steps=7, seed=1, stream=0, epoch=4)
    assert rows.shape == (7, 100)
    passes = [rows[i:i + 2].ravel() for i in (0, 2, 4)]
    for j, got in enumerate(passes):
        np.testing.assert_array_equal(got, _perm(250, 1, 0, 4, j)[:200])
        assert len(set(got.tolist())) == 200  # no row twice within a pass
    np.testing.assert_array_equal(rows[6], _perm(250, 1, 0, 4, 3)[:100])
    assert not np.array_equal(passes[0], passes[1])


def _labelled(n):
    return DomainArrays(np.zeros((n, 2, 2, 1), np.uint8), np.arange(n, dtype=np.int64),
                        np.zeros((n, 0), np.float32), np.zeros((n, 0), bool))


def test_ten_labels_per_class_runs_every_step_asked_for():
    spec = LoaderSpec(batch_size=100, steps_per_epoch=100, seed=0)
    src = MemorySource(_labelled(100), None, spec)
    assert src.steps_per_epoch == 100
    for epoch in (0, 1):
        lab, _ = src.global_rows(epoch)
        assert lab.shape == (100, 100)
        assert all(sorted(r.tolist()) == list(range(100)) for r in lab)  # each step: every label once
        assert len({tuple(r.tolist()) for r in lab}) == 100  # reshuffled every pass
    assert not np.array_equal(src.global_rows(0)[0], src.global_rows(1)[0])


def test_without_steps_an_epoch_is_one_pass():
    src = MemorySource(_labelled(100), None, LoaderSpec(batch_size=30, seed=0))
    assert src.steps_per_epoch == 3


def test_ray_source_chains_passes_with_distinct_seeds_until_the_budget():
    seen = []

    def one_batch_per_pass(seed):
        seen.append(seed)
        yield DomainBatch(torch.zeros(4, 2, 2, 1, dtype=torch.uint8), torch.full((4,), seed), torch.zeros(4, 0),
                          torch.zeros(4, 0, dtype=torch.bool))

    src = RaySource(LoaderSpec(batch_size=4, steps_per_epoch=5, seed=10), labelled=one_batch_per_pass)
    assert len(list(src.host_batches(epoch=2))) == 5
    assert seen[0] == 12 and len(set(seen)) == len(seen) == 5  # first pass as before, then fresh seeds
    seen.clear()
    assert len(list(RaySource(LoaderSpec(batch_size=4, seed=10), labelled=one_batch_per_pass).host_batches(2))) == 1


def test_budget_describes_and_refuses():
    b = resolve_budget(epochs=6, steps_per_epoch=100, side="labelled", rows=100, global_batch=100)
    assert b.total_steps == 600 and b.passes_per_epoch == 100
    assert "600 steps" in b.describe() and "cycles" in b.describe()
    assert resolve_budget(2, None, "labelled", 1000, 100).steps_per_epoch == 10
    with pytest.raises(ValueError, match="fewer than one global labelled batch of 128"):
        resolve_budget(1, 10, "labelled", 100, 128)
