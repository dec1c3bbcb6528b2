"""The formula sets shipped in ``distlm/formulas/sets/``, registered by name."""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, List, Optional, Sequence

from distlm.formulas.errors import FormulaError
from distlm.formulas.load import build_formula_set, read_spec
from distlm.formulas.module import FormulaSet
from distlm.registry import Registry

SETS_DIR = Path(__file__).resolve().parent / "sets"

FORMULA_SETS: Registry[FormulaSet] = Registry("formula set")


def _load_builtin(
    name: str, aus: Optional[Sequence[Any]] = None, emotions: Optional[Sequence[str]] = None,
    keep: Sequence[str] = (), drop: Sequence[str] = (),
) -> FormulaSet:
    path = SETS_DIR / f"{name}.yaml"
    return build_formula_set(read_spec(path, f"{path} (built-in set {name!r})"), aus, emotions, keep, drop)


# name -> file; registration is explicit, one line per shipped set.
FORMULA_SETS.register("emfacs")(functools.partial(_load_builtin, "emfacs"))  # Ekman & Friesen, paper fig. 2b
FORMULA_SETS.register("du2014")(functools.partial(_load_builtin, "du2014"))  # Du, Tao & Martinez 2014
# Fashion-MNIST attributes -> classes: the transfer mechanism on data we can get here
FORMULA_SETS.register("fmnist_attributes")(functools.partial(_load_builtin, "fmnist_attributes"))


def list_formula_sets() -> List[str]:
    """Names accepted by ``load_formulas`` besides file paths."""
    return FORMULA_SETS.list()


def builtin_path(name: str) -> Path:
    """The YAML file of a built-in set (e.g. to copy it as a starting point)."""
    if name not in FORMULA_SETS:
        raise unknown_set_error(name)
    return SETS_DIR / f"{name}.yaml"


def looks_like_path(source: Any) -> bool:
    """A path object, or a string with a separator or a YAML suffix, or an existing file."""
    if isinstance(source, os.PathLike):
        return True
    if not isinstance(source, str):
        return False
    return (os.sep in source or "/" in source or source.endswith((".yaml", ".yml"))
            or os.path.exists(source))


def unknown_set_error(source: Any) -> FormulaError:
    return FormulaError(
        f"unknown formula set {source!r}; known: {', '.join(list_formula_sets())} "
        f"(or give the path of a YAML file)"
    )
