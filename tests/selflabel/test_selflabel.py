"""Self-labelling: argmax, threshold masks, mixing with annotations."""
import torch

from distlm.selflabel import assign_from_formulas, assign_from_logits, assign_from_probs, mix_labels


def test_threshold_masks_exactly_low_confidence():
    probs = torch.tensor([[0.9, 0.1], [0.55, 0.45], [0.2, 0.8], [0.4, 0.6]])
    a = assign_from_probs(probs, threshold=0.6)
    assert a.labels.tolist() == [0, -1, 1, 1]
    assert a.mask.tolist() == [True, False, True, True]
    assert assign_from_probs(probs).labels.tolist() == [0, 0, 1, 1]


def test_logits_use_softmax():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.1]])
    a = assign_from_logits(logits, threshold=0.5)
    assert a.labels.tolist() == [0, -1]
    assert torch.allclose(a.confidence[0], torch.softmax(logits[0], 0)[0])


def test_formulas_define_pseudo_classes():
    # 3 AUs, 2 emotions: e0 = mean(AU0, AU1), e1 = AU2
    W = torch.tensor([[0.5, 0.0], [0.5, 0.0], [0.0, 1.0]])
    a = assign_from_formulas(torch.tensor([[1.0, 1.0, 0.2], [0.0, 0.4, 0.9]]), lambda s: s @ W)
    assert a.labels.tolist() == [0, 1]


def test_mix_keeps_annotations_first():
    a = assign_from_probs(torch.tensor([[0.1, 0.9], [0.5, 0.5]]), threshold=0.8)
    assert mix_labels(torch.tensor([1, 0, 1]), a).tolist() == [1, 0, 1, 1, -1]
