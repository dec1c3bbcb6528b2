"""Ray Data source: streaming_split shards, zipped domains, determinism under a seed."""
import threading

import numpy as np
import pyarrow as pa
import pytest

ray = pytest.importorskip("ray")

from distlm.data.loading import LoaderSpec, RaySource  # noqa: E402
from distlm.data.loading.ray_adaptor import shard_stream  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def ray_session(ray_shared):
    from ray.data import DataContext

    ctx = DataContext.get_current()
    saved = ctx.execution_options.preserve_order
    ctx.execution_options.preserve_order = True  # deterministic block order (see docs/loading.md)
    ctx.enable_progress_bars = False
    yield
    ctx.execution_options.preserve_order = saved


def dataset(n, offset=0, blocks=4):
    """Rows in the shared schema; ``label`` holds the row id."""
    from ray.data.extensions import ArrowTensorArray

    ids = np.arange(n) + offset
    images = np.broadcast_to((ids % 256).astype(np.uint8)[:, None, None, None], (n, 5, 5, 3)).copy()
    table = pa.table({
        "image": ArrowTensorArray.from_numpy(images),
        "label": pa.array(ids, pa.int32()),
        "au": pa.array([[0.5, 1.0]] * n, pa.list_(pa.float32())),
        "au_mask": pa.array([[True, False]] * n, pa.list_(pa.bool_())),
    })
    step = n // blocks
    return ray.data.from_arrow([table.slice(i * step, step) for i in range(blocks)])


def in_threads(fn, world=2):
    """Run ``fn(rank)`` for every rank concurrently (split shards must be read together)."""
    out, errors = [None] * world, []

    def target(r):
        try:
            out[r] = fn(r)
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=target, args=(r,)) for r in range(world)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return out


def test_streaming_split_shards_are_disjoint_and_cover_the_dataset():
    shards = dataset(64).streaming_split(2, equal=True)

    def read(rank):
        return [i for b in shard_stream(shards[rank], 8, shuffle_buffer=16, device="cpu")(0) for i in b.labels.tolist()]

    r0, r1 = in_threads(read)
    assert len(r0) == len(r1) == 32
    assert not set(r0) & set(r1)
    assert sorted(r0 + r1) == list(range(64))


def run(seed, epochs=2, epoch_on="labelled"):
    """Per rank, per epoch, per step: (labelled ids, unlabelled ids, au shape)."""
    lab = dataset(48).streaming_split(2, equal=True)
    unl = dataset(80, offset=1000).streaming_split(2, equal=True)

    def read(rank):
        spec = LoaderSpec(batch_size=12, unlabelled_ratio=2.0, rank=rank, world_size=2, seed=seed, epoch_on=epoch_on)
        src = RaySource(spec, lab[rank], unl[rank], shuffle_buffer=8, device="cpu")
        return [[(h.labelled.labels.tolist(), h.unlabelled.labels.tolist(), tuple(h.labelled.au.shape))
                 for h in src.host_batches(e)] for e in range(epochs)]

    return in_threads(read)


def test_two_domain_ray_batches_ratio_epochs_and_seeds():
    a = run(seed=0)
    for e in range(2):
        steps0, steps1 = a[0][e], a[1][e]
        assert len(steps0) == len(steps1) == 24 // 2  # each rank's 24 labelled rows, 2 per step
        lab0 = [i for s in steps0 for i in s[0]]
        lab1 = [i for s in steps1 for i in s[0]]
        assert not set(lab0) & set(lab1) and sorted(lab0 + lab1) == list(range(48))
        assert all(len(s[0]) == 2 and len(s[1]) == 4 and s[2] == (2, 2) for s in steps0 + steps1)
    # the unlabelled side (40 rows per rank, 48 drawn per epoch) cycles and stays rank-disjoint
    u0 = {i for e in range(2) for s in a[0][e] for i in s[1]}
    u1 = {i for e in range(2) for s in a[1][e] for i in s[1]}
    assert not u0 & u1 and len(u0 | u1) == 80
    assert run(seed=0) == a
    assert run(seed=1) != a


def test_epoch_on_unlabelled_ray():
    a = run(seed=0, epochs=1, epoch_on="unlabelled")
    assert len(a[0][0]) == 40 // 4
    unl = [i for r in range(2) for s in a[r][0] for i in s[1]]
    assert sorted(unl) == list(range(1000, 1080))


@pytest.mark.parametrize("deterministic", [False, True])
def test_the_trainers_split_gives_each_test_row_to_one_worker(deterministic):
    """``SplitEveryDataset`` (what the trainer hands Ray Train): training sides equal,
    the test set unequal; 37 test rows in blocks of 5 all reach exactly one worker,
    through ``test_batches`` (the evaluation's reader)."""
    from distlm.data.loading.ray_adaptor import read_order
    from distlm.data.loading.ray_split import SplitEveryDataset
    from distlm.data.sources import test_batches

    rows = dataset(37, blocks=1).take_batch(37, batch_format="pyarrow")
    test = ray.data.from_arrow([rows.slice(i, 5) for i in range(0, 37, 5)])   # 8 blocks, the last of 2 rows
    shards = SplitEveryDataset(read_order(deterministic)).configure(
        {"labelled": dataset(36, blocks=4), "test": test}, 2, None, None)

    def read(rank):
        lab = [i for b in shard_stream(shards[rank]["labelled"], 4, device="cpu")(0) for i in b.labels.tolist()]
        batches = test_batches(None, rank, 2, batch_size=4, shard=shards[rank]["test"])
        seen = [i for b in batches for i in b["labels"].tolist()]
        return lab, seen

    (lab0, test0), (lab1, test1) = in_threads(read)
    assert len(lab0) == len(lab1) and not set(lab0) & set(lab1)
    assert sorted(test0 + test1) == list(range(37))
