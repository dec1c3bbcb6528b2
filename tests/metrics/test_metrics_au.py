"""AU detection metrics against scikit-learn, with masked (unknown) labels."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score

from distlm.metrics import SMALL_AUS, au_counts, avg_full, avg_small, f1_per_au, known_mask

EMOTIONET_AUS = [1, 2, 4, 5, 6, 9, 12, 17, 20, 25, 26, 43]


def _random(seed: int, n: int, m: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Predictions, labels with 999 for unknown, and the mask of known labels."""
    g = torch.Generator().manual_seed(seed)
    target = (torch.rand(n, m, generator=g) < 0.3).long()
    pred = torch.where(torch.rand(n, m, generator=g) < 0.7, target, 1 - target).bool()
    unknown = torch.rand(n, m, generator=g) < 0.2
    target = target.masked_fill(unknown, 999)
    return pred, target, ~unknown


def _sklearn_f1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> list[float]:
    out = []
    for j in range(target.shape[1]):
        keep = mask[:, j].numpy()
        out.append(f1_score(target[keep, j].numpy(), pred[keep, j].numpy().astype(int), zero_division=0.0))
    return out


@pytest.mark.parametrize("seed,n", [(0, 300), (1, 40), (2, 7)])
def test_f1_against_sklearn_with_masked_labels(seed: int, n: int) -> None:
    pred, target, mask = _random(seed, n, len(EMOTIONET_AUS))
    counts = au_counts(pred, target, mask)
    assert counts.shape == (12, 3) and counts.dtype == torch.long
    f1 = f1_per_au(counts)
    ref = _sklearn_f1(pred, target, mask)
    np.testing.assert_allclose(f1.numpy(), ref, rtol=1e-12, atol=1e-12)
    small = [ref[EMOTIONET_AUS.index(a)] for a in SMALL_AUS]
    assert avg_small(f1, EMOTIONET_AUS) == pytest.approx(np.mean(small))
    assert avg_full(f1) == pytest.approx(np.mean(ref))


def test_float_targets_and_01_predictions_work() -> None:
    pred, target, mask = _random(3, 50, 4)
    a = au_counts(pred, target, mask)
    b = au_counts(pred.long(), target.float(), mask)
    assert torch.equal(a, b)


def test_masked_labels_are_never_read() -> None:
    pred, target, mask = _random(4, 60, 5)
    other = target.masked_fill(~mask, 1)  # change every unknown label
    assert torch.equal(au_counts(pred, target, mask), au_counts(pred, other, mask))
    assert torch.equal(known_mask(target), mask)


def test_unmasked_unknown_label_is_an_error() -> None:
    pred, target, _ = _random(5, 30, 3)
    with pytest.raises(ValueError, match="999.*known_mask"):
        au_counts(pred, target)


def test_counts_of_two_halves_sum_to_the_whole() -> None:
    pred, target, mask = _random(6, 99, 12)
    whole = au_counts(pred, target, mask)
    halves = au_counts(pred[:40], target[:40], mask[:40]) + au_counts(pred[40:], target[40:], mask[40:])
    assert torch.equal(whole, halves)


def test_counts_by_hand() -> None:
    pred = torch.tensor([[1, 1], [0, 1], [1, 0], [0, 0]])
    target = torch.tensor([[1, 0], [1, 999], [0, 1], [0, 1]])
    mask = known_mask(target)
    # AU a: tp=1 (row0), fn=1 (row1), fp=1 (row2); AU b: fp=1 (row0), fn=2 (rows 2, 3)
    assert au_counts(pred, target, mask).tolist() == [[1, 1, 1], [0, 1, 2]]
    assert f1_per_au(torch.tensor([[1, 1, 1], [0, 1, 2]])).tolist() == [0.5, 0.0]


def test_zero_division() -> None:
    counts = torch.tensor([[0, 0, 0], [2, 0, 0]])
    assert f1_per_au(counts).tolist() == [0.0, 1.0]
    f1 = f1_per_au(counts, zero_division=float("nan"))
    assert math.isnan(f1[0]) and f1[1] == 1.0
    assert avg_full(f1) == 1.0  # nan left out


def test_avg_small_uses_only_present_small_aus() -> None:
    f1 = torch.tensor([0.2, 0.4, 0.9], dtype=torch.float64)
    assert avg_small(f1, [1, 2, 12]) == pytest.approx(0.55)  # AU1 and AU12
    assert math.isnan(avg_small(f1, [2, 9, 43]))
    with pytest.raises(ValueError, match="3 au_ids"):
        avg_small(f1[:2], [1, 2, 12])


@pytest.mark.parametrize(
    "pred,target,mask,match",
    [
        (torch.ones(2, 3), torch.ones(3, 2), None, "same shape"),
        (torch.full((2, 2), 0.7), torch.ones(2, 2), None, "pred must be 0/1"),
        (torch.ones(2, 2), torch.ones(2, 2), torch.ones(2, 2), "mask must be a bool"),
    ],
)
def test_bad_input(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        au_counts(pred, target, mask)
