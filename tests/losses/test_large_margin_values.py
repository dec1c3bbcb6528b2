"""LargeMarginLoss against values worked out by hand (METHOD.md, eq. 3)."""
import math

import pytest
import torch

from distlm.losses import LargeMarginLoss, large_margin


def d2(a, b):
    """Squared distance between two already-normalised python vectors."""
    return sum((p - q) ** 2 for p, q in zip(a, b))


def unit(v):
    n = math.sqrt(sum(t * t for t in v))
    return [t / n for t in v]


def test_two_classes_2d_orthogonal():
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    loss = LargeMarginLoss(num_classes=2)(x, torch.tensor([0, 1]))
    # each sample sits on its (normalised) centroid, distance 2 to the other one
    assert loss.item() == pytest.approx(-2.0)


def test_three_classes_one_absent_2d():
    x = [[3.0, 0.0], [1.0, 1.0], [0.0, -2.0]]
    y = [0, 0, 2]  # class 1 absent from the batch: P = {0, 2}, |P| - 1 = 1
    c0 = unit([(3 + 1) / 2, (0 + 1) / 2])
    c2 = unit([0.0, -2.0])
    xs = [unit(v) for v in x]
    per = [
        d2(xs[0], c0) - d2(xs[0], c2),
        d2(xs[1], c0) - d2(xs[1], c2),
        d2(xs[2], c2) - d2(xs[2], c0),
    ]
    got = LargeMarginLoss(num_classes=3)(torch.tensor(x), torch.tensor(y))
    assert got.item() == pytest.approx(sum(per) / 3, abs=1e-6)
    got_sum = LargeMarginLoss(num_classes=3, reduction="sum")(torch.tensor(x), torch.tensor(y))
    assert got_sum.item() == pytest.approx(sum(per), abs=1e-6)


def test_four_classes_3d_all_present():
    x = [[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [0, 0, -1.0], [2.0, 2.0, 0]]
    y = [0, 1, 2, 3, 0]
    cents = {
        0: unit([(1 + 2) / 2, (0 + 2) / 2, 0]),
        1: [0, 1.0, 0],
        2: [0, 0, 1.0],
        3: [0, 0, -1.0],
    }
    per = []
    for v, j in zip(x, y):
        xh = unit(v)
        push = sum(d2(xh, cents[k]) for k in cents if k != j) / 3  # |P| - 1 = 3
        per.append(d2(xh, cents[j]) - push)
    got = LargeMarginLoss(num_classes=4)(torch.tensor(x), torch.tensor(y))
    assert got.item() == pytest.approx(sum(per) / len(per), abs=1e-6)


def test_single_class_batch_has_no_push():
    x = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]])
    got = LargeMarginLoss(num_classes=3)(x, torch.tensor([0, 0]))
    # centroid (0.5, 0.5, 0) → unit (1,1,0)/√2; pull = 2 - 2/√2 for both; |P| = 1 → no push
    assert got.item() == pytest.approx(2 - math.sqrt(2), abs=1e-6)


def test_unassigned_samples_are_ignored():
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [5.0, 5.0]])
    got = LargeMarginLoss(num_classes=2)(x, torch.tensor([0, 1, -1]))
    assert got.item() == pytest.approx(-2.0)


def test_bounded_on_random_inputs():
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        x = torch.randn(64, 16, generator=g) * 10
        y = torch.randint(0, 5, (64,), generator=g)
        per = LargeMarginLoss(num_classes=5, reduction="none")(x, y)
        assert per.min() >= -4 - 1e-5 and per.max() <= 4 + 1e-5
        c = torch.randn(5, 16, generator=g)
        per = large_margin(x, y, c, reduction="none")
        assert per.min() >= -4 - 1e-5 and per.max() <= 4 + 1e-5


def test_functional_with_user_centroids_and_present_mask():
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    c = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    present = torch.tensor([True, True, False])
    assert large_margin(x, torch.tensor([0, 1]), c, present).item() == pytest.approx(-2.0)
    # with class 2 present: sample 0 pushes from c1 (2) and c2 (4): -(6/2)
    # sample 1 from c0 (2) and c2 (2): -(4/2)
    assert large_margin(x, torch.tensor([0, 1]), c).item() == pytest.approx((-3.0 - 2.0) / 2)


@pytest.mark.parametrize("bad", [
    dict(x=torch.zeros(3), y=torch.zeros(3, dtype=torch.long), msg="(B, D)"),
    dict(x=torch.zeros(3, 2), y=torch.zeros(4, dtype=torch.long), msg="labels must be"),
    dict(x=torch.zeros(3, 2), y=torch.zeros(3), msg="integer"),
    dict(x=torch.zeros(3, 2), y=torch.tensor([0, 1, 9]), msg="out of range"),
])
def test_bad_inputs_are_clear_errors(bad):
    with pytest.raises(ValueError, match=bad["msg"].replace("(", r"\(").replace(")", r"\)")):
        LargeMarginLoss(num_classes=3)(bad["x"], bad["y"])
