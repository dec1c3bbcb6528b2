"""Every bad formula file (or bad argument) raises its own FormulaError naming the
file and the culprit."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest

from distlm.formulas import FormulaError, load_formulas

GOOD = "emotions:\n  happiness: [6, 12]\n  sadness: [1, 4, 15]\n"

# id -> (file text, load_formulas kwargs, substrings the message must hold)
CASES: Dict[str, tuple[str, Dict[str, Any], List[str]]] = {
    "not_a_facs_au": ("emotions:\n  happiness: [6, 3]\n", {}, ["unknown id 3", "'happiness'", "FACS"]),
    "au_zero": ("emotions:\n  happiness: [0, 12]\n", {}, ["unknown id 0"]),
    "au_negative_any": ("ids: any\nemotions:\n  a: [-2]\n", {}, ["unknown id -2", "positive"]),
    "aus_entry_not_int": (GOOD, {"aus": [1, "6", 12]}, ["aus=", "'6'", "not an integer"]),
    "aus_entry_bool": (GOOD, {"aus": [1, True]}, ["aus=", "True"]),
    "aus_entry_not_facs": (GOOD, {"aus": [1, 3, 6]}, ["aus=", "unknown id 3"]),
    "aus_duplicate": (GOOD, {"aus": [1, 6, 12, 6]}, ["aus=", "id 6 is given twice"]),
    "aus_empty": (GOOD, {"aus": []}, ["aus= is empty"]),
    "aus_string": (GOOD, {"aus": "1,6"}, ["aus=", "'1,6'"]),
    "emotion_emptied": (GOOD, {"aus": [1, 4, 15]}, ["'happiness'", "[6, 12]", "no id after restriction"]),
    "duplicate_emotion": (
        "emotions:\n  happiness: [6, 12]\n  sadness: [1]\n  happiness: [12]\n",
        {},
        ["duplicate emotion 'happiness'", "line 2", "line 4"],
    ),
    "duplicate_au_in_formula": ("emotions:\n  happiness: [6, 12, 6]\n", {}, ["'happiness'", "id 6 is listed twice"]),
    "empty_file": ("", {}, ["empty"]),
    "comments_only": ("# nothing here\n\n", {}, ["empty"]),
    "malformed_yaml": ("emotions:\n  happiness: [6, 12\n  sadness: [1]\n", {}, ["malformed YAML"]),
    "tab_indent": ("emotions:\n\thappiness: [6]\n", {}, ["malformed YAML"]),
    "au_as_word": ("emotions:\n  happiness: [six, 12]\n", {}, ["'happiness'", "'six'", "neither an integer id"]),
    "au_as_float": ("emotions:\n  happiness: [6.0, 12]\n", {}, ["'happiness'", "6.0", "not an integer"]),
    "formula_not_list": ("emotions:\n  happiness: 6\n", {}, ["'happiness'", "expected a list"]),
    "formula_empty": ("emotions:\n  happiness: []\n", {}, ["'happiness'", "lists no ids"]),
    "weight_not_number": ("emotions:\n  a: {aus: {6: heavy}}\n", {}, ["'a'", "weight of id 6", "'heavy'"]),
    "weight_negative": ("emotions:\n  a: {aus: {6: -1}}\n", {}, ["'a'", "> 0", "-1"]),
    "optional_not_bool": ("emotions:\n  a: {aus: [6], optional: maybe}\n", {}, ["'a'", "'optional'", "maybe"]),
    "emotion_unknown_key": ("emotions:\n  a: {au: [6]}\n", {}, ["'a'", "unknown key", "'au'"]),
    "emotion_name_not_str": ("emotions:\n  1: [6]\n", {}, ["emotion names", "1"]),
    "unknown_top_key": ("emotions:\n  a: [6]\nemotionz:\n  b: [1]\n", {}, ["unknown top-level", "emotionz"]),
    "missing_emotions": ("name: x\n", {}, ["missing 'emotions:'"]),
    "emotions_empty": ("emotions: {}\n", {}, ["'emotions'", "non-empty"]),
    "top_level_list": ("- happiness\n- sadness\n", {}, ["expected a mapping", "list"]),
    "unknown_ids_scheme": ("ids: facs2\nemotions:\n  a: [6]\n", {}, ["'ids: facs2'", "any", "facs"]),
    "names_bad_id": ("names: {3: x}\nemotions:\n  a: [6]\n", {}, ["'names'", "unknown id 3"]),
    "names_repeated": ("ids: any\nnames: {1: top, 2: top}\nemotions:\n  a: [1]\n", {}, ["'names'", "'top'"]),
    "unknown_name_ref": (
        "ids: any\nnames: {1: sleeve}\nemotions:\n  a: [collar]\n",
        {},
        ["'a'", "'collar'", "sleeve"],
    ),
    "unknown_selected_emotion": (GOOD, {"emotions": ["happiness", "joy"]}, ["'joy'", "happiness, sadness"]),
    "selected_twice": (GOOD, {"emotions": ["sadness", "sadness"]}, ["'sadness'", "twice"]),
    "text_not_str": ("name: [1]\nemotions:\n  a: [6]\n", {}, ["'name'", "string"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_formula_file(tmp_path: Path, case: str) -> None:
    text, kwargs, needles = CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    with pytest.raises(FormulaError) as e:
        load_formulas(path, **kwargs)
    msg = str(e.value)
    assert str(path) in msg, msg
    for needle in needles:
        assert needle in msg, f"{needle!r} not in {msg!r}"


def test_good_file_of_the_error_cases_loads(tmp_path: Path) -> None:
    """The argument cases fail because of the argument, not the file."""
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    assert load_formulas(path).emotions == ["happiness", "sadness"]


def test_missing_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(FormulaError, match="not found") as e:
        load_formulas(path)
    assert str(path) in str(e.value)


def test_builtin_set_errors_name_the_set() -> None:
    with pytest.raises(FormulaError) as e:
        load_formulas("emfacs", aus=[1, 2])
    msg = str(e.value)
    assert "emfacs" in msg and "'happiness'" in msg and "[6, 12]" in msg


def test_formula_error_is_a_value_error() -> None:
    assert issubclass(FormulaError, ValueError)
