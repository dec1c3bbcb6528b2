"""Bad specs fail with a SpecError naming the file, the dotted key and the problem."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

import pytest
import yaml

from distlm.config import SpecError, load_job, problems, spec_from_dict

VALID: Dict = {
    "name": "t",
    "data": {"labelled": {"format": "fmnist", "path": "/tmp/fm"}, "image_size": 28, "channels": 1,
             "class_names": ["a", "b", "c"]},
    "train": {"batch_size": 8},
}


def write(tmp_path: Path, name: str, tree) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tree if isinstance(tree, str) else yaml.safe_dump(tree))
    return str(path)


def error_of(path: str, overrides=()) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_job(path, overrides)
    return info.value


def test_valid_base_loads(tmp_path: Path) -> None:
    assert load_job(write(tmp_path, "ok.yaml", VALID)).data.class_names == ["a", "b", "c"]


@pytest.mark.parametrize("tree, key, words", [
    ({"trian": {}}, "trian", "did you mean 'train'"),
    ({"train": {"epochz": 3}}, "train.epochz", "did you mean 'epochs'"),
    ({"data": {"labelled": {"fromat": "csv"}}}, "data.labelled.fromat", "did you mean 'format'"),
    ({"zzzz": 1}, "zzzz", "known keys:"),
])
def test_unknown_key(tmp_path: Path, tree, key, words) -> None:
    err = error_of(write(tmp_path, "x.yaml", {**VALID, **tree}))
    assert err.key == key and err.source.endswith("x.yaml")
    assert words in str(err) and str(err).startswith(err.source)


@pytest.mark.parametrize("tree, key, expected", [
    ({"train": {"epochs": "three"}}, "train.epochs", "expected int, got 'three'"),
    ({"train": {"epochs": 2.5}}, "train.epochs", "expected int, got 2.5"),
    ({"train": {"amp": 1}}, "train.amp", "expected bool or null, got 1"),
    ({"seed": True}, "seed", "expected int, got True"),
    ({"optim": {"lr": "fast"}}, "optim.lr", "expected float, got 'fast'"),
    ({"optim": {"betas": [0.9]}}, "optim.betas", "2 items"),
    ({"data": {"au_ids": [1, "x"]}}, "data.au_ids[1]", "expected int, got 'x'"),
    ({"model": {"options": [1]}}, "model.options", "expected dict"),
    ({"train": 3}, "train", "expected mapping (TrainSpec), got 3"),
    ({"model": {"head": "tanh"}}, "model.head", "unknown head 'tanh'; known: linear, sigmoid, softmax"),
    ({"loss": {"centroids": "global"}}, "loss.centroids",
     "unknown centroid strategy 'global'; known: batch, ema, epoch"),
    ({"scenario": "faces"}, "scenario", "one of 'expressions', 'aus'"),
])
def test_wrong_type_or_enum(tmp_path: Path, tree, key, expected) -> None:
    merged = {**VALID, **tree}
    if "data" in tree:
        merged["data"] = {**VALID["data"], **tree["data"]}
    err = error_of(write(tmp_path, "x.yaml", merged))
    assert err.key == key and expected in err.problem and err.source.endswith("x.yaml")


def test_scientific_notation_is_a_float(tmp_path: Path) -> None:
    # YAML 1.1 reads 1e-3 as a string; a float field accepts it.
    assert load_job(write(tmp_path, "x.yaml", "optim: {lr: 1e-3}\n" + yaml.safe_dump(VALID))).optim.lr == 1e-3


@pytest.mark.parametrize("tree, key, words", [
    ({"scenario": "aus", "model": {"head": "sigmoid"}, "loss": {"supervised": "mse"},
      "data": {"class_names": []}}, "data.au_ids", "needs the list of annotated AU ids"),
    ({"scenario": "aus", "model": {"head": "sigmoid"}, "loss": {"supervised": "mse", "aux": "lm"},
      "data": {"class_names": [], "au_ids": [1, 2]}}, "selflabel.formulas", "formula set"),
    ({"scenario": "aus", "loss": {"supervised": "mse"}, "data": {"class_names": [], "au_ids": [1]}},
     "model.head", "'sigmoid' or 'linear'"),
    ({"model": {"head": "sigmoid"}}, "model.head", "needs head 'softmax'"),
    ({"data": {"labelled": {"format": "csv", "path": "x.csv"}, "labels_per_class": 5}},
     "data.labels_per_class", "only with data.labelled.format 'fmnist'"),
    ({"data": {"labelled": {"format": "nope", "path": "x"}}}, "data.labelled.format", "known: rafdb"),
    ({"scaling": {"num_workers": 3}}, "train.batch_size", "not divisible by scaling.num_workers=3"),
    ({"train": {"batch_size": 12}, "scaling": {"num_workers": 4}, "data": {"labels_per_class": 5},
      "selflabel": {"enabled": True}, "loss": {"aux": "lm"}}, "train.batch_size", "does not divide"),
    ({"data": {"unlabelled": {"format": "images", "path": "u"}}}, "data.unlabelled", "unused"),
    ({"selflabel": {"enabled": True}, "loss": {"aux": "lm"}}, "selflabel.enabled", "needs unlabelled data"),
    ({"data": {"labels_per_class": 10}, "selflabel": {"enabled": True}}, "selflabel.enabled",
     "set loss.aux"),
    ({"data": {"labels_per_class": 10}, "loss": {"aux": "pseudo_label"}}, "loss.aux",
     "selflabel.enabled: true"),
    ({"selflabel": {"threshold": 1.5}}, "selflabel.threshold", "[0, 1]"),
    ({"selflabel": {"threshold": 0.9, "threshold_policy": "freematch"}}, "selflabel.threshold",
     "'freematch' sets its own thresholds"),
    ({"train": {"epochs": 0}}, "train.epochs", "must be > 0"),
    ({"data": {"shuffle_buffer": -1}}, "data.shuffle_buffer", "must be >= 0"),
    ({"data": {"shuffle_buffer": "big"}}, "data.shuffle_buffer", "expected"),
    ({"data": {"shuffle_buffer_mb": 0}}, "data.shuffle_buffer_mb", "must be > 0"),
    ({"data": {"deterministic_reads": "yes"}}, "data.deterministic_reads", "expected bool"),
    ({"data": {"class_names": ["a", "a"]}}, "data.class_names", "duplicates"),
    ({"loss": {"ema_momentum": 1.0}}, "loss.ema_momentum", "[0, 1)"),
    ({"train": {"weight_average": 1.0}}, "train.weight_average", "[0, 1) or null"),
])
def test_cross_field_rules(tmp_path: Path, tree, key, words) -> None:
    merged = {**VALID, **tree}
    for section in ("data", "train"):
        if section in tree:
            merged[section] = {**VALID[section], **tree[section]}
    err = error_of(write(tmp_path, "x.yaml", merged))
    assert err.key == key, str(err)
    assert words in err.problem and err.source.endswith("x.yaml")


def test_valid_default_has_no_problems() -> None:
    assert problems(spec_from_dict(VALID, validate=False)) == []


def test_error_names_the_base_file_that_set_the_key(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", {**VALID, "train": {"batch_size": 8, "epochs": "x"}})
    child = write(tmp_path, "rows/child.yaml", {"extends": "../base.yaml", "name": "c"})
    err = error_of(child)
    assert err.source == base and err.key == "train.epochs"


def test_extends_merges_and_child_wins(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", {**VALID, "optim": {"lr": 0.5, "name": "sgd"}})
    child = write(tmp_path, "sub/child.yaml",
                  {"extends": "../base.yaml", "optim": {"lr": 0.1}, "data": {"class_names": ["x", "y"]}})
    spec = load_job(child)
    assert (spec.optim.name, spec.optim.lr, spec.data.class_names) == ("sgd", 0.1, ["x", "y"])
    assert spec.data.image_size == 28  # inherited from the base


@pytest.mark.parametrize("extends, words", [
    ("missing.yaml", "cannot read"),
    (3, "expected a relative path"),
])
def test_bad_extends(tmp_path: Path, extends, words) -> None:
    path = write(tmp_path, "x.yaml", {**VALID, "extends": extends})
    err = error_of(path)
    assert err.key == "extends" and err.source == path and words in err.problem


def test_extends_cycle(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", {"extends": "b.yaml"})
    write(tmp_path, "b.yaml", {"extends": "a.yaml"})
    err = error_of(a)
    assert err.key == "extends" and "cycle" in err.problem


@pytest.mark.parametrize("text, words", [("a: [1\n", "invalid YAML"), ("- 1\n- 2\n", "mapping at the top")])
def test_bad_yaml(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, "x.yaml", text)
    err = error_of(path)
    assert err.source == path and words in err.problem


def test_missing_file(tmp_path: Path) -> None:
    err = error_of(str(tmp_path / "nope.yaml"))
    assert "nope.yaml" in str(err) and "cannot read" in err.problem
