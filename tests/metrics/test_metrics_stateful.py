"""ExpressionMetrics / AUMetrics: batches accumulate to the whole-data result."""
from __future__ import annotations

import math
import pickle

import pytest
import torch

from distlm.metrics import (
    AUMetrics,
    CountMetric,
    ExpressionMetrics,
    accuracy,
    au_counts,
    average_accuracy,
    confusion_matrix,
    f1_per_au,
    known_mask,
)

AUS = [1, 2, 4, 5, 6, 9, 12, 17, 20, 25, 26, 43]


def test_expression_metrics_over_batches() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(90, 7, generator=g)
    target = torch.randint(0, 7, (90,), generator=g)
    m = ExpressionMetrics(7)
    for lo in range(0, 90, 32):
        m.update(logits[lo : lo + 32], target[lo : lo + 32])
    cm = confusion_matrix(logits.argmax(1), target, 7)
    assert torch.equal(m.confmat, cm)
    assert m.compute() == {"acc": accuracy(cm), "avg_acc": average_accuracy(cm), "num_samples": 90}
    m.reset()
    assert int(m.confmat.sum()) == 0 and math.isnan(m.compute()["acc"])


def test_expression_metrics_ignore_unlabelled() -> None:
    m = ExpressionMetrics(3, ignore_index=-1)
    m.update(torch.tensor([0, 1, 2]), torch.tensor([0, -1, 1]))
    assert m.compute()["num_samples"] == 2 and m.compute()["acc"] == 0.5


def test_au_metrics_over_batches_with_threshold() -> None:
    g = torch.Generator().manual_seed(1)
    scores = torch.rand(70, 12, generator=g)
    target = (torch.rand(70, 12, generator=g) < 0.4).float()
    target[torch.rand(70, 12, generator=g) < 0.1] = 999.0
    m = AUMetrics(AUS, threshold=0.6)
    for lo in range(0, 70, 25):
        t = target[lo : lo + 25]
        m.update(scores[lo : lo + 25], t, known_mask(t))
    counts = au_counts(scores >= 0.6, target, known_mask(target))
    assert torch.equal(m.counts, counts)
    out = m.compute()
    assert list(out["f1"]) == AUS
    assert out["f1"][12] == pytest.approx(float(f1_per_au(counts)[AUS.index(12)]))
    assert out["avg_full"] == pytest.approx(float(f1_per_au(counts).mean()))
    assert set(out) == {"f1", "avg_small", "avg_full"}


def test_au_metrics_rejects_bad_ids_and_shapes() -> None:
    with pytest.raises(ValueError, match="unique"):
        AUMetrics([1, 1, 2])
    m = AUMetrics([1, 2])
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        m.update(torch.rand(4, 3), torch.zeros(4, 3))


def test_sync_without_distributed_is_a_noop() -> None:
    m = ExpressionMetrics(2)
    m.update(torch.tensor([0, 1]), torch.tensor([0, 0]))
    before = m.confmat.clone()
    m.sync()
    assert torch.equal(m.confmat, before) and not m.synced
    m.update(torch.tensor([1]), torch.tensor([1]))  # still allowed: nothing was reduced
    assert int(m.confmat.sum()) == 3


def test_states_are_declared_once_with_their_reduction() -> None:
    m = AUMetrics([1, 2])
    assert m._reduce == {"counts": "sum"}
    with pytest.raises(ValueError, match="declared twice"):
        m.add_state("counts", torch.zeros(1))
    with pytest.raises(ValueError, match="unknown reduction"):
        CountMetric().add_state("x", torch.zeros(1), reduce="mean")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_metrics_on_cuda() -> None:
    g = torch.Generator().manual_seed(2)
    logits, target = torch.randn(50, 7, generator=g), torch.randint(0, 7, (50,), generator=g)
    m = ExpressionMetrics(7, device="cuda")
    m.update(logits.cuda(), target.cuda())
    assert m.confmat.device.type == "cuda"
    assert torch.equal(m.confmat.cpu(), confusion_matrix(logits.argmax(1), target, 7))
    a = AUMetrics([1, 2, 4], device="cuda")
    s, t = torch.rand(30, 3, generator=g), (torch.rand(30, 3, generator=g) < 0.5).float()
    a.update(s.cuda(), t.cuda())
    assert torch.equal(a.counts.cpu(), au_counts(s >= 0.5, t))


def test_metrics_pickle_with_their_counts() -> None:
    m = ExpressionMetrics(3)
    m.update(torch.tensor([0, 2]), torch.tensor([0, 1]))
    clone = pickle.loads(pickle.dumps(m))
    assert torch.equal(clone.confmat, m.confmat) and clone.compute() == m.compute()
