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


# --- island loss against Cai et al. (FG 2018), eq. 5, written out with loops ---------


def _norm(v):
    return math.sqrt(sum(a * a for a in v))


def paper_island_step(C, X, Y, lam, alpha):
    """One step of Cai et al.'s island loss by the paper, in Python floats.

    Returns the loss ``mean_i ½‖x_i − c_{y_i}‖² + λ Σ_j Σ_{k≠j} (cos(c_k, c_j) + 1)``
    (before the update) and the centres after ``c_j ← c_j − α·Δc_j``, eq. 5:
    ``Δc_j = Σ_i δ(y_i=j)(c_j − x_i) / (1 + Σ_i δ(y_i=j))
    + λ/(N−1) Σ_{k≠j} [c_k/(‖c_k‖‖c_j‖) − (c_k·c_j) c_j/(‖c_k‖‖c_j‖³)]``.
    A centre that is exactly zero (never updated) has no direction: it is left out of
    both sums over pairs (the paper's terms would be 0/0)."""
    N, D = len(C), len(C[0])
    loss = sum(0.5 * sum((X[i][d] - C[Y[i]][d]) ** 2 for d in range(D)) for i in range(len(X))) / len(X)
    for j in range(N):
        for k in range(N):
            if k != j and _norm(C[j]) > 0 and _norm(C[k]) > 0:
                cos = sum(C[k][d] * C[j][d] for d in range(D)) / (_norm(C[k]) * _norm(C[j]))
                loss += lam * (cos + 1.0)
    new = []
    for j in range(N):
        m = sum(1 for y in Y if y == j)
        delta = [sum(C[j][d] - X[i][d] for i in range(len(X)) if Y[i] == j) / (1 + m) for d in range(D)]
        nj = _norm(C[j])
        for k in range(N):
            nk = _norm(C[k])
            if k == j or nj == 0 or nk == 0:
                continue
            dot = sum(C[k][d] * C[j][d] for d in range(D))
            for d in range(D):
                delta[d] += lam / (N - 1) * (C[k][d] / (nk * nj) - dot * C[j][d] / (nk * nj ** 3))
        new.append([C[j][d] - alpha * delta[d] for d in range(D)])
    return loss, new


def _island(centers, seen, lam, alpha):
    loss = IslandLoss(num_classes=len(centers), dim=len(centers[0]), alpha=alpha, island_lambda=lam)
    loss.centers = torch.tensor(centers, dtype=torch.float64)
    loss.seen.copy_(torch.tensor(seen))
    return loss


def test_island_step_matches_the_paper_with_a_class_absent_from_the_batch():
    lam, alpha = 2.0, 0.5
    C = [[1.0, 0.0, 0.5], [0.5, 1.5, 0.0], [-1.0, 0.25, 1.0], [0.0, -2.0, 0.5]]
    X = [[1.5, 0.0, 0.0], [0.0, 1.0, 1.0], [0.5, 2.0, -0.5], [-0.5, -1.0, 1.0], [2.0, 0.5, 0.0]]
    Y = [0, 0, 1, 3, 1]  # class 2 has no sample: only the island term moves it
    loss = _island(C, [True] * 4, lam, alpha)
    value = loss(torch.tensor(X, dtype=torch.float64), torch.tensor(Y))
    expected_value, expected_centers = paper_island_step(C, X, Y, lam, alpha)
    assert value.dtype == torch.float64
    torch.testing.assert_close(value, torch.tensor(expected_value, dtype=torch.float64), rtol=0, atol=1e-12)
    torch.testing.assert_close(loss.centers, torch.tensor(expected_centers, dtype=torch.float64),
                               rtol=0, atol=1e-12)
    # the absent class moved, and by the island term alone (its centre term is 0)
    assert loss.centers[2].sub(torch.tensor(C[2], dtype=torch.float64)).abs().max() > 0.1


def test_island_steps_match_the_paper_while_a_centre_is_still_at_zero():
    """Class 3 starts unseen (zero centre); its first sample moves it by the centre term
    only, and from the next step on it pushes and is pushed. Class 2 is never in a batch."""
    lam, alpha = 10.0, 0.3
    C = [[1.0, 0.5], [0.5, 1.5], [-1.0, 0.25], [0.0, 0.0]]
    batches = [([[1.5, 0.0], [0.0, 1.0], [-0.5, -1.0]], [0, 1, 3]),
               ([[1.0, 1.0], [-2.0, -1.0], [0.5, 0.5], [0.0, 2.0]], [1, 3, 0, 1])]
    loss = _island(C, [True, True, True, False], lam, alpha)
    for X, Y in batches:
        value = loss(torch.tensor(X, dtype=torch.float64), torch.tensor(Y))
        expected_value, C = paper_island_step(C, X, Y, lam, alpha)
        torch.testing.assert_close(value, torch.tensor(expected_value, dtype=torch.float64), rtol=0, atol=1e-12)
        torch.testing.assert_close(loss.centers, torch.tensor(C, dtype=torch.float64), rtol=0, atol=1e-12)
    assert loss.seen.tolist() == [True, True, True, True]


def test_island_update_scales_the_push_by_lambda_over_n_minus_1():
    """Two classes, each sample on its centre: only the push moves the centres, by
    α·λ/(N−1)·∂cos/∂c_j (N − 1 = 1 here), and it pushes them apart."""
    lam, alpha = 2.0, 0.5
    loss = _island([[1.0, 0.0], [1.0, 1.0]], [True, True], lam, alpha)
    x = torch.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    value = loss(x, torch.tensor([0, 1]))
    cos01 = 1 / math.sqrt(2)
    assert value.item() == pytest.approx(lam * 2 * (cos01 + 1), abs=1e-12)  # centre loss 0
    # ∂cos/∂c_0 = c_1/(‖c_1‖‖c_0‖) − (c_0·c_1)c_0/(‖c_1‖‖c_0‖³) = (1, 1)/√2 − (1, 0)/√2 = (0, 1/√2)
    torch.testing.assert_close(loss.centers[0], torch.tensor([1.0, -alpha * lam / math.sqrt(2)], dtype=torch.float64),
                               rtol=0, atol=1e-12)
    new = loss.centers
    assert torch.cosine_similarity(new[0], new[1], dim=0) < cos01


def test_island_gives_no_push_with_one_class():
    loss = _island([[1.0, 2.0]], [True], 10.0, 0.5)
    loss(torch.tensor([[1.0, 2.0]], dtype=torch.float64), torch.tensor([0]))
    torch.testing.assert_close(loss.centers, torch.tensor([[1.0, 2.0]], dtype=torch.float64), rtol=0, atol=0)
