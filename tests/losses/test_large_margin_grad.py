"""Autograd vs. eq. 5's closed form.

Eq. 5 writes ∂x̂/∂x with the diagonal approximation (1 − x̂_d²)/‖x‖. The true
Jacobian of x ↦ x/‖x‖ is (I − x̂x̂ᵀ)/‖x‖: its off-diagonal entries −x̂_d·x̂_e/‖x‖
are not zero, so the diagonal form is not the gradient of the loss. Autograd
computes the exact one; we check it equals eq. 5 with the exact Jacobian (and,
to show the difference is real, that it differs from the diagonal version).
"""
import torch

from distlm.losses import LargeMarginLoss, large_margin


def closed_form(x, y, c, jacobian="exact"):
    """Eq. 5, per sample, for reduction='sum'; all classes present."""
    C = c.shape[0]
    xh = x / x.norm(dim=1, keepdim=True)
    ch = c / c.norm(dim=1, keepdim=True)
    grads = []
    for i in range(x.shape[0]):
        j = int(y[i])
        g = 2 * (xh[i] - ch[j])
        g = g - 2.0 / (C - 1) * sum(xh[i] - ch[k] for k in range(C) if k != j)
        n = x[i].norm()
        if jacobian == "exact":
            J = (torch.eye(x.shape[1], dtype=x.dtype) - torch.outer(xh[i], xh[i])) / n
        else:
            J = torch.diag((1 - xh[i] ** 2) / n)
        grads.append(J.t() @ g)
    return torch.stack(grads)


def test_autograd_equals_closed_form_with_exact_jacobian():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(12, 5, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.arange(12) % 4
    c = torch.randn(4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    large_margin(x, y, c, reduction="sum").backward()
    expected = closed_form(x.detach(), y, c.detach(), "exact")
    torch.testing.assert_close(x.grad, expected, rtol=1e-10, atol=1e-10)
    assert c.grad is None  # centroids are constants for backprop
    diag = closed_form(x.detach(), y, c.detach(), "diagonal")
    assert (x.grad - diag).abs().max() > 1e-3


def test_module_centroids_get_no_gradient():
    x = torch.randn(16, 8, dtype=torch.float64, requires_grad=True)
    y = torch.arange(16) % 3
    loss = LargeMarginLoss(num_classes=3, centroids="ema").double()
    loss(x, y).backward()
    assert not loss.centroids.centroids.requires_grad
    # with batch centroids, the gradient is that of eq. 3 with the batch means held fixed
    x2 = x.detach().clone().requires_grad_(True)
    means = torch.stack([x.detach()[y == k].mean(0) for k in range(3)])
    large_margin(x2, y, means).backward()
    x3 = x.detach().clone().requires_grad_(True)
    LargeMarginLoss(num_classes=3, centroids="batch").double()(x3, y).backward()
    torch.testing.assert_close(x3.grad, x2.grad)


def test_gradcheck_functional():
    x = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 1, 2, 0, 1, -1])
    c = torch.randn(3, 4, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: large_margin(t, y, c), (x,))
