"""Expression metrics against scikit-learn on random data with fixed seeds."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from distlm.metrics import accuracy, average_accuracy, confusion_matrix, per_class_accuracy


def _random(seed: int, n: int, c: int, missing: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(0, c, (n,), generator=g)
    if missing is not None:  # a class with no true sample (it may still be predicted)
        target[target == missing] = (missing + 1) % c
    # predictions agree with the target ~60% of the time
    preds = torch.where(torch.rand(n, generator=g) < 0.6, target, torch.randint(0, c, (n,), generator=g))
    return preds, target


@pytest.mark.parametrize("seed,n,c,missing", [(0, 200, 7, None), (1, 57, 3, None), (2, 300, 10, 4), (3, 5, 7, None)])
def test_against_sklearn(seed: int, n: int, c: int, missing: int | None) -> None:
    preds, target = _random(seed, n, c, missing)
    cm = confusion_matrix(preds, target, c)
    ref = sk_confusion_matrix(target.numpy(), preds.numpy(), labels=list(range(c)))
    assert cm.dtype == torch.long and cm.shape == (c, c)
    np.testing.assert_array_equal(cm.numpy(), ref)
    assert accuracy(cm) == pytest.approx(accuracy_score(target.numpy(), preds.numpy()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about classes absent from y_true
        balanced = balanced_accuracy_score(target.numpy(), preds.numpy())
    assert average_accuracy(cm) == pytest.approx(balanced)


def test_absent_class_is_left_out_of_average_accuracy() -> None:
    # class 2 has no true sample but is predicted once
    cm = confusion_matrix(torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 1, 1]), 3)
    recall = per_class_accuracy(cm)
    assert recall[0] == 1.0 and recall[1] == pytest.approx(1 / 3) and math.isnan(recall[2])
    assert average_accuracy(cm) == pytest.approx((1 + 1 / 3) / 2)


def test_empty_matrix_gives_nan() -> None:
    cm = confusion_matrix(torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long), 4)
    assert int(cm.sum()) == 0
    assert math.isnan(accuracy(cm)) and math.isnan(average_accuracy(cm))


def test_counts_of_two_halves_sum_to_the_whole() -> None:
    preds, target = _random(5, 101, 7)
    whole = confusion_matrix(preds, target, 7)
    halves = confusion_matrix(preds[:50], target[:50], 7) + confusion_matrix(preds[50:], target[50:], 7)
    assert torch.equal(whole, halves)


def test_ignore_index_drops_unlabelled_samples() -> None:
    preds, target = _random(6, 80, 5)
    target_u = target.clone()
    target_u[::3] = -1
    keep = target_u != -1
    cm = confusion_matrix(preds, target_u, 5, ignore_index=-1)
    assert torch.equal(cm, confusion_matrix(preds[keep], target[keep], 5))
    assert int(cm.sum()) == int(keep.sum())


@pytest.mark.parametrize(
    "preds,target,match",
    [
        (torch.tensor([0, 1]), torch.tensor([0, 7]), "target holds 7"),
        (torch.tensor([0, -1]), torch.tensor([0, 1]), "preds holds -1"),
        (torch.tensor([0.0, 1.0]), torch.tensor([0, 1]), "integer class ids"),
        (torch.tensor([0, 1, 2]), torch.tensor([0, 1]), "same shape"),
        (torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long), "same shape"),
    ],
)
def test_bad_input(preds: torch.Tensor, target: torch.Tensor, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        confusion_matrix(preds, target, 3)


def test_non_square_matrix_is_rejected() -> None:
    with pytest.raises(ValueError, match="square"):
        accuracy(torch.zeros(2, 3, dtype=torch.long))
