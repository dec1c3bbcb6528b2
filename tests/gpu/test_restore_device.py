"""A restored worker holds every piece of state on its own device with the saved
values, and its next step equals the uninterrupted worker's.

The recommended SSL recipe (and its centre-loss variant) carries all the state there
is: model, optimiser, LM centroids (or centres), FlexMatch thresholds, distribution alignment, λ2 of the auto weighting,
the EMA teacher and the weight average (bf16 autocast needs no loss scaler). The checkpoint is loaded on
the CPU (``load_state``'s default) as a restart on another machine would."""
from __future__ import annotations

import pytest
import torch

from distlm.checkpoint.state import load_state, save_state
from distlm.train.loop import Worker
from job_smoke import tiny_job

pytestmark = pytest.mark.gpu
RECIPE = "fmnist/ssl/lm_flexmatch_mu2_teacher.yaml"
EXTRA = ("train.weight_average=0.9", "selflabel.alignment=uniform", "loss.weighting.mode=auto",
         "selflabel.threshold=0.3")


def _tensors(worker: Worker):
    """(name, tensor) of every piece of restorable state, by its live objects."""
    from distlm.train.evaluate import unwrap

    out = [(f"model.{k}", v) for k, v in unwrap(worker.model).state_dict().items()]
    out += [(f"objective.{k}", v) for k, v in worker.objective.state_dict().items()]
    out += [(f"teacher.{k}", v) for k, v in worker.teacher.state_dict().items()]
    out += [(f"averaged.{k}", v) for k, v in worker.averaged.state_dict().items()]
    for i, st in worker.optimizer.state.items():
        out += [(f"optimizer.{i}.{k}", v) for k, v in st.items() if isinstance(v, torch.Tensor) and v.dim()]
    return out


@pytest.mark.parametrize("recipe,state_key", [(RECIPE, "objective.aux.centroids"),
                                              ("fmnist/ssl/center_flexmatch_mu2_teacher.yaml", "objective.aux.centers")])
def test_restore_puts_every_piece_of_state_on_the_workers_device(device, tmp_path, recipe, state_key):
    torch.manual_seed(0)
    spec = tiny_job(recipe, 1, *EXTRA)
    first = Worker(spec, device=device)
    batches = list(first.loader.epoch(0))
    for b in batches[:2]:
        first.train_step(b)
    path = save_state(str(tmp_path), first.state())
    state = load_state(path)  # mapped to the CPU
    assert all(v.device.type == "cpu" for k, v in state["objective"].items())
    second = Worker(spec, device=device)
    second.load(state)
    live = dict(_tensors(first))
    restored = _tensors(second)
    assert any(k.startswith(state_key) for k, _ in restored)  # LM centroids / the centre loss's centres
    assert any(k.startswith("objective.threshold.") for k, _ in restored)
    assert any(k.startswith("optimizer.") for k, _ in restored)
    for k, v in restored:
        assert v.device.type == device.type, f"{k} restored on {v.device}, the worker is on {device}"
        torch.testing.assert_close(v, live[k], rtol=0, atol=0, msg=k)
    assert second.objective.weighting.lambda2_now.item() == first.objective.weighting.lambda2_now.item()
    for w in (first, second):  # the next step mixes no devices and gives the same result
        w.train_step(batches[2 % len(batches)])
    tol = 0.0 if device.type == "cpu" else 1e-4  # cuDNN may pick other (non-deterministic) kernels
    for (k, a), (_, b) in zip(_tensors(first), _tensors(second)):
        torch.testing.assert_close(b, a, rtol=tol, atol=tol, msg=k)
