"""λ1/λ2 rules: the paper's automatic balance and the decreasing schedule."""
import math

import pytest
import torch

from distlm.weighting import AutoBalance, FixedWeighting, ScheduledWeighting


def test_fixed():
    assert FixedWeighting(0.5, 2.0).weights(100) == (0.5, 2.0)


def test_auto_balance_reaches_ratio():
    w = AutoBalance(lambda1=1.0, ratio=0.8, momentum=0.5)
    for _ in range(30):
        w.observe(torch.tensor(2.0), torch.tensor(-0.5))  # |L_M| used: sign is irrelevant
    l1, l2 = w.weights(30)
    assert l1 * 2.0 == pytest.approx(0.8 * l2 * 0.5)


def test_auto_balance_running_mean_formula():
    w = AutoBalance(lambda1=1.0, ratio=1.0, momentum=0.5)
    w.observe(torch.tensor(4.0), torch.tensor(1.0))  # first: initialised
    w.observe(torch.tensor(2.0), torch.tensor(3.0))  # means: ls=3, lm=2
    assert w.weights(2)[1] == pytest.approx(3.0 / 2.0)


def test_auto_balance_freezes():
    w = AutoBalance(momentum=0.0, ratio=1.0, freeze_after=2)
    w.observe(torch.tensor(1.0), torch.tensor(1.0))
    w.observe(torch.tensor(2.0), torch.tensor(1.0))
    held = w.weights(2)
    w.observe(torch.tensor(100.0), torch.tensor(1.0))
    assert w.weights(3) == held == (1.0, 2.0)


def test_auto_balance_caps_lambda2():
    w = AutoBalance(momentum=0.0, max_lambda2=5.0)
    w.observe(torch.tensor(1.0), torch.tensor(1e-9))
    assert w.weights(1)[1] == 5.0


@pytest.mark.parametrize("kind,mid", [("linear", 0.55), ("cosine", 0.55), ("exp", math.sqrt(0.1))])
def test_schedule_decreases(kind, mid):
    s = ScheduledWeighting(lambda2=1.0, final=0.1, total_steps=100, kind=kind)
    assert s.weights(0)[1] == pytest.approx(1.0)
    assert s.weights(50)[1] == pytest.approx(mid)
    assert s.weights(100)[1] == pytest.approx(0.1)
    assert s.weights(1000)[1] == pytest.approx(0.1)
    vals = [s.weights(t)[1] for t in range(0, 101, 10)]
    assert all(a >= b for a, b in zip(vals, vals[1:]))


def test_schedule_rejects_unknown_kind():
    with pytest.raises(ValueError, match="unknown schedule kind 'step'"):
        ScheduledWeighting(kind="step")
