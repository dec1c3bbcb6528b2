"""In-memory source: worker shards, global-batch equivalence, ratios, seeds, epochs."""
import numpy as np
import pytest
import torch

from distlm.data.loading import (
    LOADERS, DevicePipeline, DomainArrays, LoaderSpec, MemorySource, split_batch_size,
)
from distlm.data.loading.indices import stream_rows


def arrays(n, num_au=0, h=6, w=6, c=1, offset=0):
    """Rows whose ``labels`` are their row ids (offset to tell the two sides apart)."""
    rng = np.random.default_rng(n + num_au)
    images = rng.integers(0, 256, (n, h, w, c), dtype=np.uint8)
    au = rng.random((n, num_au), dtype=np.float32)
    mask = rng.random((n, num_au)) > 0.3
    return DomainArrays(images, np.arange(n, dtype=np.int64) + offset, au, mask)


LAB, UNL = arrays(40, num_au=3), arrays(70, offset=1000)


def source(rank=0, world=1, batch=12, ratio=2.0, seed=0, epoch_on="labelled", cap=None, lab=LAB, unl=UNL):
    spec = LoaderSpec(batch, ratio, rank, world, seed, epoch_on, cap)
    return MemorySource(lab, unl, spec)


def ids(src, epoch):
    """Per step: (labelled ids, unlabelled ids) read through the gathered batches."""
    return [(h.labelled.labels.tolist(), h.unlabelled.labels.tolist()) for h in src.host_batches(epoch)]


def test_split_batch_size_rounds_and_checks_divisibility():
    s = split_batch_size(96, 2.0, world_size=2)
    assert (s.global_l, s.global_u, s.local_l, s.local_u) == (32, 64, 16, 32)
    assert split_batch_size(10, 0.0).global_u == 0
    assert split_batch_size(5, 1.0).global_u == 3  # 2.5 rounds half up
    with pytest.raises(ValueError, match="does not divide over world_size=4"):
        split_batch_size(12, 1.0, world_size=4)
    with pytest.raises(ValueError, match="no labelled"):
        split_batch_size(2, 100.0)


@pytest.mark.parametrize("epoch_on", ["labelled", "unlabelled"])
def test_two_workers_are_disjoint_and_cover_each_global_batch(epoch_on):
    one = ids(source(epoch_on=epoch_on), epoch=3)
    r0 = ids(source(0, 2, epoch_on=epoch_on), epoch=3)
    r1 = ids(source(1, 2, epoch_on=epoch_on), epoch=3)
    assert len(one) == len(r0) == len(r1) > 0
    for (gl, gu), (l0, u0), (l1, u1) in zip(one, r0, r1):
        assert l0 + l1 == gl and u0 + u1 == gu  # rank slices, in order, are the global batch
        assert not set(l0) & set(l1) and not set(u0) & set(u1)


def test_ratio_and_batch_shapes_per_worker():
    spec = LoaderSpec(batch_size=12, unlabelled_ratio=2.0, rank=1, world_size=2, seed=0)
    loader = LOADERS.create("memory", labelled=LAB, unlabelled=UNL, spec=spec)
    batches = list(loader.epoch(0))
    assert len(batches) == loader.steps_per_epoch == 40 // 4
    for b in batches:
        assert b.x_l.shape == (2, 1, 6, 6) and b.x_u.shape == (4, 1, 6, 6)
        assert b.x_l.dtype == b.x_u.dtype == torch.float32
        assert b.y_l.dtype == torch.long and b.au_l.shape == (2, 3) and b.au_mask_l.dtype == torch.bool


def test_supervised_only_gives_empty_unlabelled_and_au():
    spec = LoaderSpec(batch_size=8, unlabelled_ratio=0.0)
    b = next(iter(LOADERS.create("memory", labelled=arrays(16), spec=spec).epoch(0)))
    assert b.x_u.shape == (0, 1, 6, 6) and b.au_l.shape == (8, 0) and b.au_mask_l.shape == (8, 0)


def test_same_seed_same_batches_other_seed_differs():
    def run(seed):
        spec = LoaderSpec(batch_size=12, unlabelled_ratio=2.0, seed=seed)
        loader = LOADERS.create("memory", labelled=LAB, unlabelled=UNL, spec=spec,
                                pipeline=DevicePipeline(augment_labelled="crop_flip", augment_unlabelled="strong"))
        return list(loader.epoch(1))

    a, b, c = run(5), run(5), run(6)
    for x, y in zip(a, b):
        for name in ("x_l", "y_l", "au_l", "au_mask_l", "x_u"):
            assert torch.equal(getattr(x, name), getattr(y, name))
    assert any(not torch.equal(x.y_l, z.y_l) for x, z in zip(a, c))
    assert any(not torch.equal(x.x_u, z.x_u) for x, z in zip(a, c))


def test_epochs_reshuffle():
    src = source()
    assert ids(src, 0) != ids(src, 1)
    assert ids(src, 0) == ids(source(), 0)


def test_epoch_on_labelled_reads_each_labelled_row_once_and_cycles_unlabelled():
    src = source(batch=12, ratio=2.0)  # B_l = 4, B_u = 8: 10 steps, 80 unlabelled draws from 70 rows
    steps = ids(src, 0)
    lab = [i for s, _ in steps for i in s]
    assert len(steps) == src.steps_per_epoch == 40 // 4
    assert sorted(lab) == list(range(40))
    unl = [i for _, s in steps for i in s]
    assert sorted(unl[:70]) == list(range(1000, 1070))  # the first pass covers every row once
    assert len(set(unl[70:])) == 10  # then a fresh pass begins


def test_epoch_on_unlabelled_reads_each_unlabelled_row_once_and_cycles_labelled():
    src = source(batch=12, ratio=2.0, epoch_on="unlabelled")  # 70 // 8 = 8 steps, 32 labelled draws
    steps = ids(src, 0)
    assert len(steps) == src.steps_per_epoch == 8
    unl = [i for _, s in steps for i in s]
    assert len(set(unl)) == len(unl) == 64
    lab = [i for s, _ in steps for i in s]
    assert len(lab) == 32 and len(set(lab)) == 32  # inside the first labelled pass: no repeat
    lab2 = [i for s, _ in ids(src, 2) for i in s]  # stream positions 64..95 cross a pass boundary at 80
    assert lab2 == stream_rows(40, 0, 0, 64, 32).tolist()
    assert len(set(lab2[:16])) == 16 and len(set(lab2[16:])) == 16


def test_cycled_side_continues_across_epochs():
    src = source(batch=12, ratio=2.0)
    unl = [i for e in range(3) for _, s in ids(src, e) for i in s]
    expected = (stream_rows(70, 0, 1, 0, 240) + 1000).tolist()
    assert unl == expected
    for p in range(3):  # every full pass of the stream is a permutation
        assert sorted(unl[70 * p: 70 * (p + 1)]) == list(range(1000, 1070))


def test_steps_per_epoch_cap():
    assert len(ids(source(cap=3), 0)) == 3


def test_too_small_dataset_raises():
    with pytest.raises(ValueError, match="fewer than one global labelled batch"):
        source(batch=60, ratio=0.0, lab=arrays(10))
