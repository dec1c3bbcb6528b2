"""Everything in the loss, centroid and weighting registries: forward, backward,
state_dict round trip."""
import pytest
import torch

from distlm.losses import create_loss, list_losses
from distlm.weighting import create_weighting, list_weightings


@pytest.mark.parametrize("name", list_losses())
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_loss_forward_backward_state(name, reduction):
    torch.manual_seed(0)
    loss = create_loss(name, num_classes=5, reduction=reduction)
    x = torch.randn(20, 8, requires_grad=True)
    y = torch.randint(0, 5, (20,))
    for _ in range(2):
        value = loss(x, y)
    assert value.dim() == 0 and torch.isfinite(value)
    value.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    clone = create_loss(name, num_classes=5, reduction=reduction)
    clone.load_state_dict(loss.state_dict())
    for k, v in loss.state_dict().items():
        assert torch.equal(clone.state_dict()[k], v), k
    loss.eval(), clone.eval()
    torch.testing.assert_close(loss(x, y), clone(x, y))


@pytest.mark.parametrize("name", list_weightings())
def test_weighting_state_round_trip(name):
    w = create_weighting(name)
    for step in range(5):
        w.weights(step)
        w.observe(torch.tensor(2.0 + step), torch.tensor(-0.5))
    clone = create_weighting(name)
    clone.load_state_dict(w.state_dict())
    assert clone.weights(5) == w.weights(5)


def test_unknown_loss_lists_known():
    with pytest.raises(KeyError, match="center, island, lm"):
        create_loss("arcface", num_classes=2)
