"""The weak view that assigns self-labels: unlabelled rows only, eval mode, no second
BatchNorm update, the model left in train mode; labelled rows keep their own logits."""
import copy

import torch

from distlm.train.loop import Worker

from train_helpers import job

WEAK_STRONG = ("selflabel.strong_augment=strong", "train.augment=flip", "selflabel.threshold=0.5",
               "model.options={width: 8, norm: batch}")


def _bn_stats(model):
    return {n: b.clone() for n, b in model.named_buffers() if "running" in n}


def test_weak_view_is_eval_mode_and_updates_batchnorm_once():
    w = Worker(job("fmnist/lm_ssl_batch.yaml", *WEAK_STRONG))
    batch = next(iter(w.loader.epoch(0)))
    assert batch.x_u_s is not None and batch.num_unlabelled > 0
    reference = copy.deepcopy(w.model)
    with torch.no_grad():  # exactly one train-mode forward of what the losses see
        reference.train()(torch.cat([batch.x_l, batch.x_u_s]))
    w.train_step(batch)
    assert w.model.training
    after, expected = _bn_stats(w.model), _bn_stats(reference)
    assert after
    for name in after:
        torch.testing.assert_close(after[name], expected[name])


def test_weak_logits_are_the_eval_network_on_the_unlabelled_rows():
    w = Worker(job("fmnist/lm_ssl_batch.yaml", *WEAK_STRONG))
    batch = next(iter(w.loader.epoch(0)))
    own = torch.randn(batch.num_labelled + batch.num_unlabelled, 10)
    got = w.selflabel_logits(batch, own, strong=True)
    with torch.no_grad():
        want_u = copy.deepcopy(w.model).eval()(batch.x_u).logits
    torch.testing.assert_close(got[: batch.num_labelled], own[: batch.num_labelled])
    torch.testing.assert_close(got[batch.num_labelled:], want_u)
    assert w.model.training
