"""``push="nearest"``: the large-margin loss pushing each sample from the closest
other centroid, against values worked out by hand, its gradient, and its errors."""
import math

import pytest
import torch

from distlm.losses import LargeMarginLoss, large_margin


def test_pushes_from_the_nearest_other_centroid_only():
    # centroids at 0°, 90° and 180° on the circle; sample at 30° of class 0
    c = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    a = math.radians(30)
    x = torch.tensor([[2 * math.cos(a), 2 * math.sin(a)]])
    pull = 2 - 2 * math.cos(a)                # to c0
    d_c1 = 2 - 2 * math.cos(math.radians(60))  # nearest other: c1
    d_c2 = 2 - 2 * math.cos(math.radians(150))
    got = large_margin(x, torch.tensor([0]), c, push="nearest")
    assert got.item() == pytest.approx(pull - d_c1, abs=1e-6)
    # the paper's mean push for the same sample differs: the two must not agree
    mean = large_margin(x, torch.tensor([0]), c, push="mean")
    assert mean.item() == pytest.approx(pull - (d_c1 + d_c2) / 2, abs=1e-6)
    assert abs(got.item() - mean.item()) > 0.5


def test_absent_classes_are_never_the_nearest():
    c = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    x = torch.tensor([[1.0, 0.0]])
    present = torch.tensor([True, True, False])  # c2 is nearer than c1 but absent
    got = large_margin(x, torch.tensor([0]), c, present, push="nearest")
    assert got.item() == pytest.approx(0.0 - 2.0, abs=1e-6)


def test_equals_mean_push_with_two_classes_and_no_push_with_one():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(12, 5, generator=g), torch.randint(0, 2, (12,), generator=g)
    near = LargeMarginLoss(2, push="nearest", reduction="none")(x, y)
    mean = LargeMarginLoss(2, push="mean", reduction="none")(x, y)
    torch.testing.assert_close(near, mean)
    one = torch.zeros(12, dtype=torch.long)
    near1 = LargeMarginLoss(3, push="nearest", reduction="none")(x, one)
    torch.testing.assert_close(near1, LargeMarginLoss(3, push="mean", reduction="none")(x, one))
    assert torch.isfinite(near1).all()


def test_unassigned_samples_count_nothing_and_bounds_hold():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 16, generator=g) * 10
    y = torch.randint(-1, 5, (64,), generator=g)
    per = LargeMarginLoss(5, push="nearest", reduction="none")(x, y)
    assert (per[y < 0] == 0).all()
    assert per.min() >= -4 - 1e-5 and per.max() <= 4 + 1e-5


def test_nearest_push_is_never_weaker_than_the_mean_push():
    # min_k d_k ≤ mean_k d_k, so the nearest-push loss is ≥ the paper's, sample by sample
    g = torch.Generator().manual_seed(2)
    x, c = torch.randn(40, 8, generator=g), torch.randn(6, 8, generator=g)
    y = torch.randint(0, 6, (40,), generator=g)
    near = large_margin(x, y, c, push="nearest", reduction="none")
    mean = large_margin(x, y, c, push="mean", reduction="none")
    assert (near >= mean - 1e-6).all() and (near > mean + 1e-3).any()


def test_gradcheck_and_gradient_moves_away_from_the_nearest():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(6, 4, dtype=torch.double, generator=g, requires_grad=True)
    c = torch.randn(4, 4, dtype=torch.double, generator=g)
    y = torch.tensor([0, 1, 2, 3, 0, -1])
    assert torch.autograd.gradcheck(lambda v: large_margin(v, y, c, push="nearest"), (x,))
    # one step of gradient descent lowers the cosine to the nearest other centroid
    c = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    x = torch.tensor([[math.cos(0.5), math.sin(0.5)]], requires_grad=True)
    large_margin(x, torch.tensor([0]), c, push="nearest").backward()
    x2 = (x - 0.1 * x.grad).detach()
    def cos_to_c1(v):
        return float(torch.nn.functional.normalize(v, dim=1)[0] @ c[1])
    assert cos_to_c1(x2) < cos_to_c1(x.detach()) - 1e-3


def test_unknown_push_is_a_clear_error():
    with pytest.raises(ValueError, match="push must be one of"):
        LargeMarginLoss(3, push="hardest")
    with pytest.raises(ValueError, match="'farthest'"):
        large_margin(torch.randn(2, 2), torch.tensor([0, 1]), torch.eye(2), push="farthest")
