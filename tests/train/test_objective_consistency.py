"""The objective's FixMatch-style consistency term on top of an embedding loss.

``L = λ1·CE(labelled) + λ2·L_LM + w·CE(strong-view logits, weak-view self-labels ≥ τ)``,
checked by hand on a tiny fixed batch; the class-adaptive threshold is counted once per
step whichever terms read the self-labels.
"""
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from distlm.config import SpecError
from distlm.losses import create_loss
from distlm.train.objective import Objective, uses_unlabelled

from train_helpers import job

CONS = ("loss.consistency=fixmatch", "selflabel.threshold=0.7", "selflabel.strong_augment=strong",
        "loss.weighting.warmup_steps=0", "loss.consistency_weight=2.0")


def _batch(y_l):
    return SimpleNamespace(num_labelled=len(y_l), y_l=torch.tensor(y_l))


def _inputs(seed=0, n_l=4, n_u=6, k=10, d=16):
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(n_l + n_u, d, generator=g)
    logits = 3 * torch.randn(n_l + n_u, k, generator=g)
    weak = 3 * torch.randn(n_l + n_u, k, generator=g)
    return emb, logits, weak


def test_loss_is_supervised_plus_lm_plus_weighted_fixmatch_by_hand():
    spec = job("fmnist/lm_ssl_batch.yaml", *CONS)
    assert uses_unlabelled(spec)
    obj = Objective(spec, num_classes=10)
    emb, logits, weak = _inputs()
    batch = _batch([0, 1, 2, 3])
    res = obj(emb, logits, batch, step=5, selflabel_logits=weak)

    conf, lab = torch.softmax(weak[4:], 1).max(1)
    keep = conf >= 0.7
    assert 0 < int(keep.sum()) < 6, "the fixture must keep some self-labels and drop others"
    ce_l = F.cross_entropy(logits[:4], batch.y_l)
    fix = (F.cross_entropy(logits[4:], lab, reduction="none") * keep).sum() / keep.sum()
    mixed = torch.cat([batch.y_l, torch.where(keep, lab, torch.full_like(lab, -1))])
    lm = create_loss("lm", num_classes=10, centroids="batch")(emb, mixed)
    lam2 = res.terms["lambda2"]
    expected = res.terms["lambda1"] * ce_l + lam2 * lm + 2.0 * fix
    torch.testing.assert_close(res.loss, expected, rtol=1e-5, atol=1e-6)
    assert res.terms["loss_consistency"] == pytest.approx(float(fix), rel=1e-5)
    assert res.selflabel_kept == pytest.approx(float(keep.float().mean()))


def test_consistency_without_lm_equals_the_fixmatch_baseline():
    emb, logits, weak = _inputs(seed=1)
    batch = _batch([5, 6, 7, 8])
    cons = Objective(job("fmnist/lm_ssl_batch.yaml", *CONS, "loss.aux=none", "loss.consistency_weight=1.0"),
                     num_classes=10)(emb, logits, batch, step=3, selflabel_logits=weak)
    base = Objective(job("fmnist/lm_ssl_batch.yaml", "loss.aux=fixmatch", "selflabel.threshold=0.7",
                         "selflabel.strong_augment=strong", "loss.weighting.warmup_steps=0",
                         "loss.weighting.lambda2=1.0"),
                     num_classes=10)(emb, logits, batch, step=3, selflabel_logits=weak)
    torch.testing.assert_close(cons.loss, base.loss)


def test_flexmatch_state_counts_each_step_once():
    spec = job("fmnist/lm_ssl_batch.yaml", *CONS, "selflabel.threshold_policy=flexmatch")
    obj = Objective(spec, num_classes=10)
    ref = Objective(spec, num_classes=10)
    emb, logits, weak = _inputs(seed=2)
    obj(emb, logits, _batch([0, 1, 2, 3]), step=1, selflabel_logits=weak)
    conf, lab = torch.softmax(weak[4:], 1).max(1)
    ref.threshold(conf, lab)  # exactly one update
    torch.testing.assert_close(obj.threshold.sigma, ref.threshold.sigma)


@pytest.mark.parametrize("over, key", [
    (("loss.consistency=fixmatch",), "loss.consistency"),                       # no strong view / τ
    ((*CONS, "loss.aux=fixmatch"), "loss.consistency"),                          # twice the same term
    ((*CONS, "loss.consistency_weight=-1"), "loss.consistency_weight"),
    (("loss.consistency=mean_teacher",), "loss.consistency"),                   # unknown name
])
def test_bad_consistency_settings_name_the_key(over, key):
    with pytest.raises(SpecError, match=key.replace(".", r"\.")):
        job("fmnist/lm_ssl_batch.yaml", *over)


def test_aus_soft_membership_weighs_by_the_formula_score():
    """Transfer: pseudo-emotions from the formula scores, thresholded, and with
    ``membership: confidence`` each sample builds its centroid with its score."""
    from distlm.train.loop import build_formulas

    spec = job("fmnist/attributes.yaml", "loss.membership=confidence", "loss.centroids=batch",
               "selflabel.threshold=0.85", "loss.weighting.warmup_steps=0")
    formulas = build_formulas(spec)
    obj = Objective(spec, num_classes=len(formulas.emotions), formulas=formulas)
    g = torch.Generator().manual_seed(3)
    n_l, n_u, d = 4, 6, 16
    emb = torch.randn(n_l + n_u, d, generator=g)
    logits = 4 * torch.randn(n_l + n_u, 8, generator=g)
    batch = SimpleNamespace(num_labelled=n_l, au_l=torch.ones(n_l, 8), au_mask_l=torch.ones(n_l, 8, dtype=torch.bool))
    res = obj(emb, logits, batch, step=1)

    scores = formulas(torch.sigmoid(logits))
    conf, lab = scores.max(1)
    keep = conf >= 0.85
    assert 0 < int(keep.sum()) < n_l + n_u
    cents = obj.centroid_state()
    for k in lab[keep].unique().tolist():
        m = keep & (lab == k)
        expected = (conf[m, None] * emb[m]).sum(0) / conf[m].sum()
        torch.testing.assert_close(cents[k], expected, rtol=1e-5, atol=1e-6)
    assert res.selflabel_kept == pytest.approx(float(keep.float().mean()))


def test_loss_push_nearest_reaches_the_lm_term():
    """``loss.push: nearest`` in the job spec gives the nearest-push LM value, which
    differs from the paper's mean push on the same inputs."""
    emb, logits, weak = _inputs(seed=1)
    batch = _batch([0, 1, 2, 3])
    lms = {}
    for push in ("mean", "nearest"):
        spec = job("fmnist/ssl/lm_flexmatch_nearest.yaml", f"loss.push={push}", "loss.weighting.warmup_steps=0")
        res = Objective(spec, num_classes=10)(emb, logits, batch, step=5, selflabel_logits=weak)
        lms[push] = res.terms["loss_aux"]
        assert res.terms["lambda2"] == pytest.approx(0.5)  # the tiny overrides fix λ2 = 0.5
    assert lms["nearest"] > lms["mean"] + 1e-4, lms
    with pytest.raises(SpecError, match="push"):
        job("fmnist/ssl/lm_flexmatch_nearest.yaml", "loss.push=hardest")
