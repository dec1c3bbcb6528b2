"""Spec fields that name a registry entry take the registry's names at load time:
an entry registered later is accepted, an unknown name fails with the key, the value
and the registered names."""
import subprocess
import sys
from pathlib import Path

import pytest

from distlm.config import SpecError, load_job, spec_from_dict

ROOT = Path(__file__).parents[2]


@pytest.fixture
def job_file(tmp_path):
    def write(text: str) -> Path:
        path = tmp_path / "job.yaml"
        path.write_text(text)
        return path

    return write


def test_mse_linear_is_accepted(job_file):
    path = job_file("scenario: aus\ndata: {au_ids: [1, 2, 4]}\n"
                    "model: {head: linear}\nloss: {supervised: mse_linear}\n")
    assert load_job(str(path)).loss.supervised == "mse_linear"


def test_a_supervised_loss_registered_later_is_accepted_and_gone_once_removed(job_file):
    from distlm.train.supervised import SUPERVISED

    path = job_file("scenario: aus\ndata: {au_ids: [1, 2]}\nmodel: {head: sigmoid}\n"
                    "loss: {supervised: plugin_l1}\n")
    with pytest.raises(SpecError, match="unknown supervised loss 'plugin_l1'"):
        load_job(str(path))
    SUPERVISED.register("plugin_l1")(lambda logits, batch: logits.abs().mean())
    try:
        assert load_job(str(path)).loss.supervised == "plugin_l1"
    finally:
        SUPERVISED.unregister("plugin_l1")
    assert "plugin_l1" not in SUPERVISED
    with pytest.raises(SpecError, match="plugin_l1"):
        load_job(str(path))


def test_an_aux_loss_registered_later_is_accepted_and_built_by_the_objective(job_file):
    from distlm.losses import LOSSES, CenterLoss
    from distlm.train.objective import Objective

    @LOSSES.register("plugin_center")
    class PluginCenter(CenterLoss):
        pass

    try:
        path = job_file("loss: {aux: plugin_center}\ndata: {class_names: [a, b, c]}\n")
        spec = load_job(str(path))
        assert spec.loss.aux == "plugin_center"
        objective = Objective(spec, num_classes=3)
        assert isinstance(objective.aux, PluginCenter)
        assert objective.aux.alpha == 0.5  # the loss's own default: no spec options are guessed
    finally:
        LOSSES.unregister("plugin_center")
    with pytest.raises(SpecError, match="unknown auxiliary loss 'plugin_center'"):
        load_job(str(path))


@pytest.mark.parametrize("tree,key,kind,known", [
    ({"loss": {"supervised": "l1"}}, "loss.supervised", "supervised loss", "bce, ce, mse, mse_linear"),
    ({"loss": {"aux": "arcface"}}, "loss.aux", "auxiliary loss",
     "center, fixmatch, island, lm, none, pseudo_label"),
    ({"loss": {"centroids": "kmeans"}}, "loss.centroids", "centroid strategy", "batch, epoch, ema"),
    ({"loss": {"weighting": {"mode": "gradnorm"}}}, "loss.weighting.mode", "loss weighting",
     "auto, fixed, schedule"),
    ({"selflabel": {"threshold_policy": "adamatch"}}, "selflabel.threshold_policy",
     "self-label threshold policy", "fixed, flexmatch, freematch"),
    ({"selflabel": {"alignment": "softmatch"}}, "selflabel.alignment", "distribution alignment",
     "labelled, none, uniform"),
    ({"model": {"head": "cosine"}}, "model.head", "head", "linear, sigmoid, softmax"),
    ({"optim": {"name": "lion"}}, "optim.name", "optimizer", "adam, adamw, sgd"),
    ({"scheduler": {"name": "onecycle"}}, "scheduler.name", "lr scheduler", "cosine, none, step"),
])
def test_unknown_name_says_key_value_and_registered_names(tree, key, kind, known):
    value = next(iter(_leaves(tree)))
    with pytest.raises(SpecError) as err:
        spec_from_dict(tree, "job.yaml")
    assert err.value.key == key
    assert err.value.source == "job.yaml"
    assert err.value.problem.startswith(f"unknown {kind} {value!r}")
    assert err.value.problem.endswith(f"known: {', '.join(sorted(known.split(', ')))}")


def _leaves(tree):
    for v in tree.values():
        if isinstance(v, dict):
            yield from _leaves(v)
        else:
            yield v


def test_an_override_with_an_unknown_name_blames_the_override(job_file):
    path = job_file("loss: {aux: none}\n")
    with pytest.raises(SpecError) as err:
        load_job(str(path), ["loss.aux=islnd"])
    assert err.value.source == f"{path} (override loss.aux=islnd)"
    assert "did you mean 'island'?" in err.value.problem


def test_a_name_must_be_a_string():
    with pytest.raises(SpecError, match=r"loss.centroids: expected a centroid strategy name \(batch, ema, epoch\), got 3"):
        spec_from_dict({"loss": {"centroids": 3}})


def test_existing_job_keys_and_values_still_load():
    spec = load_job(str(ROOT / "jobs" / "emotionet.yaml"))
    assert spec.loss.supervised in ("mse", "bce")
    assert spec.selflabel.threshold_policy == "fixed"


def test_importing_the_config_does_not_import_torch():
    code = "import sys, distlm.config; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
