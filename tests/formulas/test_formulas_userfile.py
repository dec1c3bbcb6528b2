"""User formula files: round trip, non-face ids (``ids: any`` + ``names:``), the docs example."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from distlm.formulas import builtin_path, list_formula_sets, load_formulas, read_spec, write_spec

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formulas.md"

USER = """\
name: my-set
description: two emotions, one weighted, one optional
ids: facs
names: {6: cheek raiser, 12: lip corner puller}
emotions:
  joy: {aus: {6: 1.0, 12: 3.0}}
  gloom: [1, 4, 15]
  smirk: {aus: [12, 14], optional: true}
"""

FASHION = """\
name: fashion-attributes
ids: any
names: {1: upper-body, 2: lower-body, 3: long-sleeves, 4: footwear, 5: has-heel,
        6: carried, 7: covers-legs, 8: one-piece}
emotions:
  shirt: [upper-body, long-sleeves]
  trouser: [lower-body, covers-legs]
  dress: {aus: {one-piece: 2, covers-legs: 1}}
  sneaker: [footwear]
  bag: [6]
"""


def test_user_file_loads_as_written(tmp_path: Path) -> None:
    path = tmp_path / "user.yaml"
    path.write_text(USER)
    fs = load_formulas(str(path))
    assert fs.emotions == ["joy", "gloom"]
    assert fs.au_ids == [1, 4, 6, 12, 15]
    assert fs.weights("joy") == {6: 0.25, 12: 0.75}
    assert fs.names[12] == "lip corner puller"
    assert load_formulas(path, emotions=["smirk"]).aus("smirk") == [12, 14]


def test_user_file_round_trips(tmp_path: Path) -> None:
    src = tmp_path / "user.yaml"
    src.write_text(USER)
    spec = read_spec(src)
    out = write_spec(spec, tmp_path / "copy.yaml")
    again = read_spec(out)
    assert replace(again, source=spec.source) == spec
    a = torch.rand(3, 5)
    assert torch.equal(load_formulas(out)(a), load_formulas(src)(a))


def test_builtin_sets_round_trip(tmp_path: Path) -> None:
    for name in list_formula_sets():
        spec = read_spec(builtin_path(name))
        again = read_spec(write_spec(spec, tmp_path / f"{name}.yaml"))
        assert replace(again, source=spec.source) == spec


def test_non_face_ids_with_names(tmp_path: Path) -> None:
    path = tmp_path / "fashion.yaml"
    path.write_text(FASHION)
    fs = load_formulas(path, aus=list(range(1, 9)))
    assert fs.emotions == ["shirt", "trouser", "dress", "sneaker", "bag"]
    assert fs.aus("shirt") == [1, 3]
    assert fs.weights("dress") == pytest.approx({7: 1 / 3, 8: 2 / 3})
    assert fs.names[5] == "has-heel"
    attrs = torch.zeros(1, 8)
    attrs[0, [0, 2]] = 1.0  # upper-body + long-sleeves
    assert fs.emotions[int(fs.assign(attrs))] == "shirt"


def test_large_ids_only_with_ids_any(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("ids: any\nemotions:\n  a: [1000, 7]\n")
    assert load_formulas(path).au_ids == [7, 1000]


def test_docs_example_file_loads(tmp_path: Path) -> None:
    """The example user file in docs/formulas.md is valid."""
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), flags=re.S)
    assert blocks, "docs/formulas.md has no ```yaml block"
    for i, block in enumerate(blocks):
        path = tmp_path / f"doc{i}.yaml"
        path.write_text(block)
        fs = load_formulas(path)
        assert len(fs.emotions) >= 1
