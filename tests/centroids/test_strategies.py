"""Centroid strategies: batch, ema, epoch rules and their state."""
import pytest
import torch

from distlm.centroids import class_sums, create_centroids, list_centroids


def test_class_sums_with_ignored_and_weights():
    x = torch.tensor([[1.0, 0.0], [3.0, 2.0], [9.0, 9.0]])
    s, n = class_sums(x, torch.tensor([1, 1, -1]), 3)
    torch.testing.assert_close(s, torch.tensor([[0.0, 0.0], [4.0, 2.0], [0.0, 0.0]]))
    torch.testing.assert_close(n, torch.tensor([0.0, 2.0, 0.0]))
    s, n = class_sums(x, torch.tensor([0, 0, 0]), 1, weights=torch.tensor([1.0, 0.5, 0.0]))
    torch.testing.assert_close(s, torch.tensor([[2.5, 1.0]]))
    torch.testing.assert_close(n, torch.tensor([1.5]))


def test_batch_strategy_forgets_absent_classes():
    c = create_centroids("batch", num_classes=3)
    c(torch.tensor([[1.0, 1.0], [3.0, 3.0]]), torch.tensor([0, 2]))
    assert c.present.tolist() == [True, False, True]
    c(torch.tensor([[2.0, 0.0]]), torch.tensor([1]))
    assert c.present.tolist() == [False, True, False]
    torch.testing.assert_close(c.centroids[1], torch.tensor([2.0, 0.0]))


def test_ema_rule():
    c = create_centroids("ema", num_classes=2, momentum=0.75)
    c(torch.tensor([[4.0, 0.0]]), torch.tensor([0]))  # first sight: initialised
    torch.testing.assert_close(c.centroids[0], torch.tensor([4.0, 0.0]))
    c(torch.tensor([[0.0, 8.0], [0.0, 0.0]]), torch.tensor([0, 1]))
    torch.testing.assert_close(c.centroids[0], torch.tensor([3.0, 2.0]))  # .75·(4,0)+.25·(0,8)
    torch.testing.assert_close(c.centroids[1], torch.tensor([0.0, 0.0]))
    c(torch.tensor([[1.0, 1.0]]), torch.tensor([1]))
    torch.testing.assert_close(c.centroids[0], torch.tensor([3.0, 2.0]))  # absent: kept
    assert c.present.all()


def test_epoch_rule_uses_previous_pass():
    c = create_centroids("epoch", num_classes=2)
    c(torch.tensor([[2.0, 0.0]]), torch.tensor([0]))
    c(torch.tensor([[4.0, 0.0]]), torch.tensor([0]))
    torch.testing.assert_close(c.centroids[0], torch.tensor([3.0, 0.0]))  # first pass: cumulative
    c.end_epoch()
    c(torch.tensor([[100.0, 0.0]]), torch.tensor([0]))
    torch.testing.assert_close(c.centroids[0], torch.tensor([3.0, 0.0]))  # frozen within the pass
    c.end_epoch()
    torch.testing.assert_close(c.centroids[0], torch.tensor([100.0, 0.0]))


@pytest.mark.parametrize("name", list_centroids())
def test_state_dict_round_trip(name):
    a = create_centroids(name, num_classes=4)
    g = torch.Generator().manual_seed(3)
    for _ in range(3):
        a(torch.randn(10, 5, generator=g), torch.randint(0, 4, (10,), generator=g))
    b = create_centroids(name, num_classes=4)
    b.load_state_dict(a.state_dict())
    x, y = torch.randn(10, 5, generator=g), torch.randint(0, 4, (10,), generator=g)
    ca, pa = a(x, y)
    cb, pb = b(x, y)
    torch.testing.assert_close(ca, cb)
    assert torch.equal(pa, pb)


def test_unknown_strategy_lists_known():
    with pytest.raises(KeyError, match="batch, ema, epoch"):
        create_centroids("median", num_classes=2)
