"""CalibrationMetrics / EmbeddingGeometry: closed-form values on tiny batches."""
from __future__ import annotations

import math

import pytest
import torch

from distlm.metrics import (CalibrationMetrics, EmbeddingGeometry, calibration_counts, class_direction_stats,
                            expected_calibration_error)


def _logits_for(probs: list) -> torch.Tensor:
    return torch.log(torch.tensor(probs, dtype=torch.float64))


def test_ece_and_nll_closed_form() -> None:
    # sample 0: confidence 0.8, right; sample 1: confidence 0.6, wrong (true class has 0.3)
    logits = _logits_for([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1]])
    m = CalibrationMetrics(n_bins=10)
    m.update(logits, torch.tensor([0, 1]))
    got = m.compute()
    assert got["ece"] == pytest.approx((abs(1 - 0.8) + abs(0 - 0.6)) / 2)
    assert got["nll"] == pytest.approx(-(math.log(0.8) + math.log(0.3)) / 2)


def test_same_bin_errors_cancel_as_ece_defines() -> None:
    # both in the 0.7-0.8 bin: accuracy 1/2, mean confidence 0.75 -> |0.5 - 0.75| = 0.25
    logits = _logits_for([[0.72, 0.18, 0.1], [0.78, 0.12, 0.1]])
    m = CalibrationMetrics(n_bins=10)
    m.update(logits, torch.tensor([0, 2]))
    assert m.compute()["ece"] == pytest.approx(0.25)


def test_perfectly_confident_and_right_is_calibrated() -> None:
    logits = torch.tensor([[50.0, 0.0], [0.0, 50.0]])
    m = CalibrationMetrics()
    m.update(logits, torch.tensor([0, 1]))
    got = m.compute()
    assert got["ece"] == pytest.approx(0.0, abs=1e-12) and got["nll"] == pytest.approx(0.0, abs=1e-12)


def test_ignored_labels_and_batches() -> None:
    g = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(40, 5, generator=g), torch.randint(0, 5, (40,), generator=g)
    labels[::7] = -1
    whole, parts = CalibrationMetrics(ignore_index=-1), CalibrationMetrics(ignore_index=-1)
    whole.update(logits, labels)
    parts.update(logits[:13], labels[:13])
    parts.update(logits[13:], labels[13:])
    assert whole.compute() == pytest.approx(parts.compute())
    count, conf, correct, nll = calibration_counts(logits, labels, 15, ignore_index=-1)
    assert count.sum() == int((labels != -1).sum())
    assert expected_calibration_error(count, conf, correct) == pytest.approx(whole.compute()["ece"])


def test_no_samples_is_nan_and_shapes_are_checked() -> None:
    m = CalibrationMetrics()
    assert all(math.isnan(v) for v in m.compute().values())
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        m.update(torch.zeros(3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="n_bins"):
        CalibrationMetrics(n_bins=0)


def test_embedding_geometry_closed_form() -> None:
    # class 0 spread over two orthogonal directions, class 1 collapsed on one of them;
    # scale must not matter (normalised inside)
    emb = torch.tensor([[3.0, 0.0], [0.0, 5.0], [2.0, 0.0], [7.0, 0.0]])
    m = EmbeddingGeometry(num_classes=2, dim=2)
    m.update(emb, torch.tensor([0, 0, 1, 1]))
    got = m.compute()
    compact = (math.sqrt(2) + 2) / 4
    assert got["compactness"] == pytest.approx(compact)
    assert got["nearest_cos"] == pytest.approx(1 / math.sqrt(2))
    assert got["margin"] == pytest.approx(compact - 1 / math.sqrt(2))


def test_embedding_geometry_separated_classes_and_absent_ones() -> None:
    emb = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]])
    m = EmbeddingGeometry(num_classes=4, dim=3, ignore_index=-1)
    m.update(emb, torch.tensor([0, 0, 1, -1]))  # class 2 and 3 absent, one ignored sample
    assert m.compute() == pytest.approx({"compactness": 1.0, "nearest_cos": 0.0, "margin": 1.0})
    only_one = EmbeddingGeometry(num_classes=3, dim=3)
    only_one.update(emb[:2], torch.tensor([0, 0]))
    assert all(math.isnan(v) for v in only_one.compute().values())
    assert all(math.isnan(v) for v in class_direction_stats(torch.zeros(2, 3), torch.zeros(2)).values())


def test_mean_cosine_to_own_direction_is_the_sum_formula() -> None:
    g = torch.Generator().manual_seed(1)
    emb, y = torch.randn(60, 8, generator=g), torch.randint(0, 4, (60,), generator=g)
    m = EmbeddingGeometry(num_classes=4, dim=8)
    m.update(emb, y)
    e = torch.nn.functional.normalize(emb.double(), dim=1)
    mu = torch.stack([torch.nn.functional.normalize(e[y == c].mean(0), dim=0) for c in range(4)])
    direct = float((e * mu[y]).sum(1).mean())
    assert m.compute()["compactness"] == pytest.approx(direct)
