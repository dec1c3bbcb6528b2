"""DDP exactness: 2 gloo processes with half a batch each reproduce one process
on the whole batch — loss, centroids and gradients (float64, 1e-10: see
``ddp_helpers``) — over several steps,
including classes present on one rank only."""
import pytest
import torch
import torch.distributed as dist

from ddp_helpers import assert_equal_in_float64, join, one_and_two_ranks, save_results
from distlm.losses import create_loss

CASES = [("lm", dict(centroids="batch")), ("lm", dict(centroids="ema", momentum=0.8)),
         ("lm", dict(centroids="epoch")), ("lm", dict(centroids="ema", momentum=0.8, push="nearest")),
         ("center", dict(alpha=0.5)),
         ("island", dict(alpha=0.5, island_lambda=0.1))]
STEPS, B, D_IN, D, C = 4, 16, 6, 4, 4


def batches():
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(STEPS):
        x = torch.randn(B, D_IN, generator=g)
        # rank 0 holds rows 0..7, rank 1 rows 8..15: class 2 only on rank 0,
        # class 3 only on rank 1; row 5 unassigned (-1)
        y = torch.tensor([0, 1, 2, 2, 0, -1, 1, 2, 0, 1, 3, 3, 0, 1, 3, 0])
        out.append((x, y))
    return out


def run(rank: int, world: int, out_dir: str, port: int) -> None:
    torch.manual_seed(0)
    join(rank, world, port)
    results = {}
    for ci, (name, kw) in enumerate(CASES):
        torch.manual_seed(ci)
        model = torch.nn.Linear(D_IN, D)
        if world > 1:
            model = torch.nn.parallel.DistributedDataParallel(model)
        loss_fn = create_loss(name, num_classes=C, **kw)
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        per = B // world
        for step, (x, y) in enumerate(batches()):
            xs, ys = x[rank * per:(rank + 1) * per], y[rank * per:(rank + 1) * per]
            opt.zero_grad()
            loss = loss_fn(model(xs), ys)
            loss.backward()
            value = loss.detach().clone()
            if world > 1:  # the global mean: average of the ranks' losses
                dist.all_reduce(value)
                value /= world
            params = model.module if world > 1 else model
            results[f"{ci}/{step}/loss"] = value
            results[f"{ci}/{step}/grad"] = params.weight.grad.detach().clone()
            for k, v in loss_fn.state_dict().items():
                results[f"{ci}/{step}/state/{k}"] = v.detach().clone()
            opt.step()
            if step == 1 and hasattr(loss_fn, "end_epoch"):
                loss_fn.end_epoch()
        results[f"{ci}/weight"] = params.weight.detach().clone()
    save_results(results, out_dir, rank, world)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    return one_and_two_ranks(run, str(tmp_path_factory.mktemp("ddp")))


@pytest.mark.slow
@pytest.mark.parametrize("ci", range(len(CASES)), ids=[f"{n}-{k.get('centroids', '')}{'-' + k['push'] if 'push' in k else ''}" for n, k in CASES])
def test_two_ranks_equal_one_process(outputs, ci):
    single, r0, r1 = outputs
    keys = [k for k in single if k.startswith(f"{ci}/")]
    assert any("/state/" in k for k in keys)
    assert_equal_in_float64(r0, single, keys)
    assert_equal_in_float64(r1, single, keys)
