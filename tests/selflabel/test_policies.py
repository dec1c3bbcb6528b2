"""Self-label policies: each option changes what it claims on a tiny
fixed batch."""
import pytest
import torch

from distlm.losses import LargeMarginLoss
from distlm.selflabel.policies import ALIGNMENTS, THRESHOLDS
from distlm.models.ema import EMAWeights


def test_fixed_threshold_masks_exactly_low_confidence():
    pol = THRESHOLDS.create("fixed", num_classes=3, threshold=0.7)
    conf = torch.tensor([0.9, 0.69, 0.7, 0.2])
    assert pol(conf, torch.tensor([0, 1, 2, 0])).tolist() == [True, False, True, False]
    assert THRESHOLDS.create("fixed", num_classes=3)(conf, torch.zeros(4, dtype=torch.long)).all()


def test_flexmatch_thresholds_follow_the_learning_effect():
    pol = THRESHOLDS.create("flexmatch", num_classes=3, threshold=0.8, decay=1.0)
    # 4 confident predictions of class 0, 1 of class 1, 5 unconfident
    conf = torch.tensor([0.9, 0.95, 0.85, 0.99, 0.9, 0.1, 0.2, 0.3, 0.4, 0.5])
    labels = torch.tensor([0, 0, 0, 0, 1, 2, 2, 2, 2, 2])
    mask = pol(conf, labels)
    assert mask.all()  # before any count every threshold is 0
    beta = torch.tensor([4.0, 1.0, 0.0]) / 5.0  # σ / max(max σ, unused=5)
    torch.testing.assert_close(pol.thresholds(), (0.8 * beta / (2 - beta)).float())
    mask = pol(torch.tensor([0.6, 0.6, 0.6]), torch.tensor([0, 1, 2]))
    # class 0 now needs 0.8·0.8/1.2 ≈ 0.533 < 0.6, class 1 0.8·0.2/1.8 ≈ 0.089; class 2 is 0
    assert mask.tolist() == [True, True, True]
    assert pol.thresholds()[0] > pol.thresholds()[1] > pol.thresholds()[2]


def test_flexmatch_needs_tau():
    with pytest.raises(ValueError, match="needs selflabel.threshold"):
        THRESHOLDS.create("flexmatch", num_classes=3, threshold=None)


def test_freematch_thresholds_follow_running_confidence():
    pol = THRESHOLDS.create("freematch", num_classes=3, momentum=0.5)
    scores = torch.tensor([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.4, 0.3, 0.3]])
    conf, labels = scores.max(1)
    mask = pol(conf, labels, scores)
    # updated with this batch first, from 1/3 each: τ_g = (1/3 + mean conf)/2, p̃ likewise
    tau_g = 0.5 / 3 + 0.5 * conf.mean()
    p = 0.5 / 3 + 0.5 * scores.mean(0)
    expected = (tau_g * p / p.max()).float()
    torch.testing.assert_close(pol.thresholds(), expected)
    assert mask.tolist() == (conf >= expected[labels]).tolist() == [True, True, True, False]
    assert pol.thresholds()[0] > pol.thresholds()[1] > pol.thresholds()[2]  # rarer class, lower bar
    before = pol.thresholds()
    sure = torch.tensor([[0.98, 0.01, 0.01]] * 4)
    pol(*sure.max(1), sure)
    assert pol.thresholds()[0] > before[0]  # a more confident model raises the bar


def test_freematch_chooses_its_own_tau():
    with pytest.raises(ValueError, match="leave selflabel.threshold unset"):
        THRESHOLDS.create("freematch", num_classes=3, threshold=0.9)
    with pytest.raises(ValueError, match="needs the score vectors"):
        THRESHOLDS.create("freematch", num_classes=3)(torch.ones(2), torch.zeros(2, dtype=torch.long))


def test_uniform_alignment_formula():
    al = ALIGNMENTS.create("uniform", num_classes=2, momentum=0.0)
    probs = torch.tensor([[0.9, 0.1], [0.7, 0.3]])
    out = al(probs)
    mean = probs.mean(0)  # momentum 0: the running mean is this batch's
    expected = probs * (0.5 / mean)
    expected = expected / expected.sum(1, keepdim=True)
    torch.testing.assert_close(out, expected)
    assert out[:, 1].mean() > probs[:, 1].mean()  # the rare class is boosted


def test_labelled_alignment_targets_label_frequencies():
    al = ALIGNMENTS.create("labelled", num_classes=2, momentum=0.0)
    out = al(torch.tensor([[0.5, 0.5]]), torch.tensor([0, 0, 0, 1, 1, 1, 1, 1]))
    # label counts start at 1 each: (1+3, 1+5)/10 → target (0.4, 0.6)
    torch.testing.assert_close(out, torch.tensor([[0.4, 0.6]]))


def test_ema_teacher_follows_formula():
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    teacher = EMAWeights(net, momentum=0.75)
    before = teacher.model.weight.clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    teacher.update(net)
    torch.testing.assert_close(teacher.model.weight, 0.75 * before + 0.25 * net.weight)
    assert not teacher.model.weight.requires_grad


def test_soft_membership_gives_weighted_centroid():
    loss = LargeMarginLoss(num_classes=2)
    x = torch.tensor([[1.0, 0.0], [3.0, 2.0], [0.0, 1.0]])
    labels = torch.tensor([0, 0, 1])
    loss(x, labels, membership=torch.tensor([1.0, 0.25, 1.0]))
    expected = (1.0 * x[0] + 0.25 * x[1]) / 1.25
    torch.testing.assert_close(loss.centroids.centroids[0], expected)


def test_labelled_only_centroids_still_pull_unlabelled():
    loss = LargeMarginLoss(num_classes=2, reduction="none")
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [4.0, 1.0]])
    labels = torch.tensor([0, 1, 0])  # the third is a self-labelled sample
    per = loss(x, labels, centroid_labels=torch.tensor([0, 1, -1]))
    torch.testing.assert_close(loss.centroids.centroids, torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    assert per[2] < 0  # closer to class 0's labelled-only centroid than to class 1's
