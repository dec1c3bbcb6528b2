"""Built-in formula sets: contents, restriction to EmotioNet, and a registry smoke test."""
from __future__ import annotations

import pickle

import pytest
import torch

from distlm.formulas import FORMULA_SETS, FormulaError, FormulaSet, list_formula_sets, load_formulas

EMOTIONET_AUS = [1, 2, 4, 5, 6, 9, 12, 17, 20, 25, 26, 43]


def test_emfacs_on_emotionet_matches_the_paper() -> None:
    fs = load_formulas("emfacs", aus=EMOTIONET_AUS)
    expected = {
        "happiness": [6, 12],
        "sadness": [1, 4],
        "surprise": [1, 2, 5, 26],
        "fear": [1, 2, 4, 5, 20, 26],
        "anger": [4, 5],
        "disgust": [9],
    }
    assert fs.emotions == list(expected)  # contempt dropped, file order kept
    assert {e: fs.aus(e) for e in fs.emotions} == expected
    assert fs.au_ids == EMOTIONET_AUS
    assert fs.matrix.shape == (12, 6)


def test_emfacs_unrestricted_has_the_full_formulas() -> None:
    fs = load_formulas("emfacs")
    assert fs.aus("fear") == [1, 2, 4, 5, 7, 20, 26]
    assert fs.aus("disgust") == [9, 15, 16]
    assert "contempt" not in fs.emotions
    assert 14 not in fs.au_ids  # only contempt uses AU14


def test_contempt_can_be_asked_for() -> None:
    fs = load_formulas("emfacs", emotions=["happiness", "contempt"])
    assert fs.emotions == ["happiness", "contempt"]
    assert fs.aus("contempt") == [12, 14]
    assert fs.au_ids == [6, 12, 14]


def test_du2014_loads() -> None:
    fs = load_formulas("du2014")
    assert fs.emotions == ["happy", "sad", "fearful", "angry", "surprised", "disgusted"]
    assert fs.aus("fearful") == [1, 4, 20, 25]
    assert fs.aus("disgusted") == [9, 10, 17]
    assert fs.au_ids == [1, 2, 4, 7, 9, 10, 12, 15, 17, 20, 24, 25, 26]


def test_registry_lists_the_shipped_sets() -> None:
    assert list_formula_sets() == FORMULA_SETS.list()
    assert {"emfacs", "du2014"} <= set(list_formula_sets())


def test_unknown_set_name_lists_known_ones() -> None:
    with pytest.raises(FormulaError) as e:
        load_formulas("emfax")
    assert "emfax" in str(e.value)
    for name in list_formula_sets():
        assert name in str(e.value)


@pytest.mark.parametrize("name", list_formula_sets())
def test_every_registered_set_runs(name: str) -> None:
    fs = load_formulas(name)
    assert isinstance(fs, FormulaSet)
    assert fs is not load_formulas(name)  # fresh module each time
    m, k = len(fs.au_ids), len(fs.emotions)
    # each column is a mean: non-negative weights that sum to one
    assert torch.allclose(fs.matrix.sum(0), torch.ones(k))
    assert (fs.matrix >= 0).all()
    a = torch.rand(5, m, generator=torch.Generator().manual_seed(0), requires_grad=True)
    p = fs(a)
    assert p.shape == (5, k)
    p.sum().backward()
    assert a.grad is not None and torch.isfinite(a.grad).all()
    assert fs.assign(a).shape == (5,) and fs.assign(a).dtype == torch.long
    # state_dict round trip into a fresh module of the same set
    state = fs.state_dict()
    assert set(state) == {"weight"}
    other = FORMULA_SETS.create(name)
    other.weight.zero_()
    other.load_state_dict(state)
    assert torch.equal(other.matrix, fs.matrix)
    assert torch.equal(other(a), fs(a))
    # picklable, so it can travel to Ray workers
    clone = pickle.loads(pickle.dumps(fs))
    assert clone.emotions == fs.emotions and clone.au_ids == fs.au_ids
    assert torch.equal(clone(a), fs(a))


def test_identical_columns_after_restriction_warn() -> None:
    with pytest.warns(UserWarning, match="'sad' and 'angry'"):
        fs = load_formulas("du2014", aus=EMOTIONET_AUS)
    assert fs.aus("sad") == fs.aus("angry") == [4]


def test_emfacs_on_emotionet_does_not_warn(recwarn: pytest.WarningsRecorder) -> None:
    load_formulas("emfacs", aus=EMOTIONET_AUS)
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]
