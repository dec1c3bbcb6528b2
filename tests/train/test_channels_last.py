"""``train.channels_last``: NHWC weights, same training up to rounding, checkpoints
that load into the default layout."""
import pytest
import torch

from distlm.config import SpecError
from distlm.checkpoint.bundle import bundle_from_state
from distlm.checkpoint.state import load_state, save_state
from distlm.train.loop import Worker

from train_helpers import job

JOB = "fmnist/ssl/lm_flexmatch_avg.yaml"   # the μ = 1 SSL recipe (weak/strong views, weight average)


def _conv_weights(model):
    return [m.weight for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.weight.shape[1] > 1]


def _train(*over, steps=3):
    w = Worker(job(JOB, *over))
    batches = iter(w.loader.epoch(0))
    losses = [w.train_step(next(batches))["terms"]["loss"] for _ in range(steps)]
    return w, losses


def test_weights_are_nhwc_and_training_matches_the_default_layout():
    nchw, l_default = _train("train.channels_last=false")
    nhwc, l_cl = _train("train.channels_last=true")
    convs = _conv_weights(nhwc.model) + _conv_weights(nhwc.averaged.model)
    assert convs and all(p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous() for p in convs)
    assert not any(p.is_contiguous(memory_format=torch.channels_last) for p in _conv_weights(nchw.model))
    torch.testing.assert_close(torch.tensor(l_cl), torch.tensor(l_default), rtol=1e-4, atol=1e-4)
    for (n, a), b in zip(nhwc.model.state_dict().items(), nchw.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4, msg=n)


def test_checkpoint_loads_into_the_default_layout(tmp_path):
    w, _ = _train("train.channels_last=true", steps=1)
    save_state(str(tmp_path), w.state())
    model = bundle_from_state(load_state(str(tmp_path)), str(tmp_path)).model
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x).logits, w.eval_model.eval()(x).logits, rtol=1e-4, atol=1e-4)


def test_wrong_type_names_the_key():
    with pytest.raises(SpecError, match="train.channels_last"):
        job(JOB, "train.channels_last=7")
