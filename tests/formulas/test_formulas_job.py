"""``selflabel.drop_contempt`` decides whether the job's formula set has contempt:
checked through the function the trainer builds its formulas with."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from distlm.config import load_job
from distlm.formulas import FormulaError, job_formulas, load_formulas
from distlm.train.loop import build_formulas, num_aux_classes

ROOT = Path(__file__).resolve().parents[2]
EMOTIONET = str(ROOT / "jobs" / "emotionet.yaml")
SIX = ["happiness", "sadness", "surprise", "fear", "anger", "disgust"]


def emotionet(drop: bool):
    return load_job(EMOTIONET, [f"selflabel.drop_contempt={str(drop).lower()}"])


def test_drop_contempt_true_leaves_contempt_out():
    spec = emotionet(True)
    fs = build_formulas(spec)
    assert fs.emotions == SIX
    assert fs.matrix.shape == (12, 6)
    assert num_aux_classes(spec, fs) == 6


def test_drop_contempt_false_keeps_contempt_restricted_to_the_job_aus():
    spec = emotionet(False)
    fs = build_formulas(spec)
    assert fs.emotions == SIX + ["contempt"]
    assert num_aux_classes(spec, fs) == 7
    assert fs.matrix.shape == (12, 7)
    assert fs.aus("contempt") == [12]  # EMFACS 12+14; EmotioNet does not annotate AU 14
    assert fs.au_ids == spec.data.au_ids


def test_the_emotionet_job_drops_contempt_as_the_paper_does():
    assert load_job(EMOTIONET).selflabel.drop_contempt is True
    assert "contempt" not in build_formulas(load_job(EMOTIONET)).emotions


@pytest.mark.parametrize("drop, expected", [(True, "happiness"), (False, "contempt")])
def test_pseudo_emotion_of_a_lip_corner_pull_alone(drop, expected):
    """AU 12 on and every other AU off: happiness (6+12) scores ½, contempt (12 on
    EmotioNet) scores 1, so the objective's self-label is contempt only when kept."""
    from distlm.train.objective import Objective

    spec = emotionet(drop)
    fs = build_formulas(spec)
    obj = Objective(spec, num_aux_classes(spec, fs), fs)
    logits = torch.full((1, 12), -30.0, dtype=torch.float64)
    logits[0, spec.data.au_ids.index(12)] = 30.0
    a = obj.assign(logits)
    assert fs.emotions[int(a.labels[0])] == expected
    assert float(a.confidence[0]) == pytest.approx(1.0 if expected == "contempt" else 0.5, abs=1e-9)


USER = """\
emotions:
  joy: [6, 12]
  contempt: [12, 14]
  smirk: {aus: [12, 14], optional: true}
"""


def test_a_contempt_formula_not_marked_optional_is_dropped_too(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(USER)
    spec = emotionet(True)
    assert job_formulas(spec, str(path)).emotions == ["joy"]
    kept = job_formulas(emotionet(False), str(path))
    assert kept.emotions == ["joy", "contempt"]  # smirk: optional, not named by the job


@pytest.mark.filterwarnings("ignore:.*scores are identical")  # du2014 sad/angry on 12 AUs
def test_a_set_without_contempt_is_unaffected():
    on, off = (job_formulas(emotionet(d), "du2014") for d in (True, False))
    assert on.emotions == off.emotions
    assert "contempt" not in on.emotions
    torch.testing.assert_close(on.matrix, off.matrix, rtol=0, atol=0)


def test_keep_and_drop_arguments():
    assert load_formulas("emfacs", keep=["contempt"]).emotions == SIX + ["contempt"]
    assert load_formulas("emfacs", drop=["disgust"]).emotions == SIX[:-1]
    assert load_formulas("emfacs", keep=["contempt"], drop=["contempt"]).emotions == SIX
    with pytest.raises(FormulaError, match="not both"):
        load_formulas("emfacs", emotions=["fear"], drop=["contempt"])
    with pytest.raises(FormulaError, match="must be a list of names"):
        load_formulas("emfacs", keep="contempt")
    with pytest.raises(FormulaError, match="leaves no emotion"):
        load_formulas("du2014", drop=["happy", "sad", "fearful", "angry", "surprised", "disgusted"])
