"""``train.weight_average``: an EMA of the weights is what gets evaluated, saved
for inference and restored on resume; the trained weights keep training."""
import torch

from distlm.checkpoint.bundle import bundle_from_state
from distlm.checkpoint.bundle import load_bundle
from distlm.checkpoint.state import AVERAGED_KEY, inference_weights, load_state, save_state
from distlm.train.loop import Worker

from train_helpers import job

M = 0.6


def _params(model):
    return [p.detach().clone() for p in model.parameters()]


def _worker(*over):
    return Worker(job("fmnist/lm_ssl_ema.yaml", f"train.weight_average={M}", *over))


def test_average_follows_the_ema_formula_and_trained_weights_are_untouched():
    w = _worker()
    batches = iter(w.loader.epoch(0))
    expected = _params(w.model)  # the average starts at the initial weights
    for _ in range(3):
        w.train_step(next(batches))
        expected = [M * e + (1 - M) * p for e, p in zip(expected, _params(w.model))]
    got = _params(w.averaged.model)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e)
    assert any(not torch.equal(g, p) for g, p in zip(got, _params(w.model))), "average == trained weights"
    for (n, b), (_, s) in zip(w.averaged.model.named_buffers(), w.model.named_buffers()):
        torch.testing.assert_close(b, s, msg=n)  # statistics copied, not averaged


def test_evaluation_uses_the_average():
    w = _worker()
    batches = iter(w.loader.epoch(0))
    for _ in range(3):
        w.train_step(next(batches))
    assert w.eval_model is w.averaged.model
    with torch.no_grad():  # a visibly different average gives a different evaluation
        for p in w.averaged.model.parameters():
            p.mul_(0.0)
    zero = w.evaluate()
    assert abs(zero["acc"] - 0.1) < 1e-9  # all-zero weights: one class for every image of a balanced test set


def test_checkpoint_keeps_the_average_for_inference_and_resume(tmp_path):
    w = _worker()
    batches = iter(w.loader.epoch(0))
    for _ in range(2):
        w.train_step(next(batches))
    save_state(str(tmp_path), w.state())
    state = load_state(str(tmp_path))
    for k, v in w.averaged.model.state_dict().items():
        torch.testing.assert_close(state[AVERAGED_KEY][k], v)
        torch.testing.assert_close(inference_weights(state)[k], v)
    for loaded in (bundle_from_state(state, str(tmp_path)).model, load_bundle(str(tmp_path), detector="none").model):
        for k, v in w.averaged.model.state_dict().items():
            torch.testing.assert_close(loaded.state_dict()[k], v, msg=k)
    again = _worker()
    again.load(state)
    for a, b in zip(_params(again.averaged.model), _params(w.averaged.model)):
        torch.testing.assert_close(a, b)
    for a, b in zip(_params(again.model), _params(w.model)):
        torch.testing.assert_close(a, b)


def test_without_the_option_nothing_changes(tmp_path):
    w = Worker(job("fmnist/lm_ssl_ema.yaml"))
    assert w.averaged is None and w.eval_model is w.model
    save_state(str(tmp_path), w.state())
    state = load_state(str(tmp_path))
    assert AVERAGED_KEY not in state and inference_weights(state) is state["model"]
