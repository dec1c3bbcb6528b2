"""Center and island losses against hand values; the α update against its formula."""
import math

import pytest
import torch

from distlm.losses import CenterLoss, IslandLoss, center_loss, island_penalty


def test_center_loss_hand_value():
    x = torch.tensor([[1.0, 2.0], [3.0, 0.0], [0.0, 0.0]])
    c = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    y = torch.tensor([0, 0, 1])
    # ½‖(0,1)‖² = 0.5, ½‖(2,-1)‖² = 2.5, ½‖0‖² = 0
    assert center_loss(x, y, c).item() == pytest.approx(3.0 / 3)
    assert center_loss(x, y, c, reduction="sum").item() == pytest.approx(3.0)


def test_alpha_update_formula():
    loss = CenterLoss(num_classes=3, dim=2, alpha=0.5)
    loss.centers.copy_(torch.tensor([[1.0, 1.0], [0.0, 0.0], [5.0, 5.0]]))
    x = torch.tensor([[1.0, 2.0], [3.0, 0.0], [4.0, 4.0]])
    y = torch.tensor([0, 0, 1])
    value = loss(x, y)
    # value uses the centres *before* the update: (0.5 + 2.5 + ½·32) / 3
    assert value.item() == pytest.approx((0.5 + 2.5 + 16.0) / 3)
    # Δc_0 = ((1,1)-(1,2) + (1,1)-(3,0)) / (1+2) = (-2, 0)/3 ; c_0 ← c_0 − 0.5·Δc_0
    # Δc_1 = ((0,0)-(4,4)) / 2 = (-2, -2) ; c_1 ← (1, 1) ; class 2 unchanged
    expected = torch.tensor([[1 + 1 / 3, 1.0], [1.0, 1.0], [5.0, 5.0]])
    torch.testing.assert_close(loss.centers, expected)


def test_center_loss_gradient_is_x_minus_c():
    loss = CenterLoss(num_classes=2, dim=2, reduction="sum")
    loss.centers.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    x = torch.tensor([[2.0, 2.0], [0.0, 0.0]], requires_grad=True)
    loss(x, torch.tensor([0, 1])).backward()
    torch.testing.assert_close(x.grad, torch.tensor([[1.0, 2.0], [0.0, -1.0]]))
    assert not loss.centers.requires_grad


def test_island_penalty_hand_value():
    c = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-1.0, 0.0]])
    # ordered pairs: cos(0,1)=0, cos(0,2)=-1, cos(1,2)=0, each twice: Σ(cos+1) = 2·(1 + 0 + 1)
    assert island_penalty(c).item() == pytest.approx(4.0)
    assert island_penalty(c, torch.tensor([True, True, False])).item() == pytest.approx(2.0)


def test_island_loss_value_and_center_update():
    lam, alpha = 2.0, 0.5
    loss = IslandLoss(num_classes=2, dim=2, alpha=alpha, island_lambda=lam)
    loss.centers.copy_(torch.tensor([[1.0, 0.0], [1.0, 1.0]]))
    loss.seen.fill_(True)
    x = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    y = torch.tensor([0, 1])
    cos01 = 1 / math.sqrt(2)
    value = loss(x, y)
    # centre loss 0 (each sample on its centre) + λ·2·(cos + 1)
    assert value.item() == pytest.approx(lam * 2 * (cos01 + 1), abs=1e-6)
    # Δc from centre loss is 0 here, so the update is −α·λ·∂P/∂c; ∂P/∂c_0 = 2·∂cos/∂c_0
    c0, c1 = torch.tensor([1.0, 0.0]), torch.tensor([1.0, 1.0])
    dcos_dc0 = c1 / (c0.norm() * c1.norm()) - (c0 @ c1) * c0 / (c0.norm() ** 3 * c1.norm())
    torch.testing.assert_close(loss.centers[0], c0 - alpha * lam * 2 * dcos_dc0)
    # the island step pushes the centres apart
    new = loss.centers
    assert torch.cosine_similarity(new[0], new[1], dim=0) < cos01
