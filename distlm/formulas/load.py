"""Read a formula file and build its `FormulaSet` (the steps under `load_formulas`)."""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from distlm.formulas.module import FormulaSet
from distlm.formulas.restrict import check_au_ids, restrict, select_formulas, used_ids, weight_matrix
from distlm.formulas.spec import Formula, FormulaSpec, parse_spec, spec_to_dict
from distlm.formulas.yamlio import read_yaml, write_yaml

PathLike = Union[str, "os.PathLike[str]"]


def read_spec(path: PathLike, label: Optional[str] = None) -> FormulaSpec:
    """Parse and validate the formula file at ``path`` (``label`` names it in errors)."""
    path = Path(path)
    return parse_spec(read_yaml(path), label or str(path))


def write_spec(spec: FormulaSpec, path: PathLike) -> Path:
    """Write ``spec`` as a formula file that `read_spec` reads back equal."""
    return write_yaml(spec_to_dict(spec), Path(path))


def _warn_identical(formulas: List[Formula], source: str) -> None:
    """Two equal formulas give equal scores: the argmax can never pick the second."""
    seen: Dict[Tuple[Tuple[int, float], ...], str] = {}
    for f in formulas:
        total = sum(f.weights.values())
        key = tuple(sorted((i, w / total) for i, w in f.weights.items()))
        if key in seen:
            warnings.warn(
                f"{source}: after restriction emotions {seen[key]!r} and {f.name!r} both use "
                f"only {sorted(f.weights)}; their scores are identical and argmax picks {seen[key]!r}",
                UserWarning,
                stacklevel=3,
            )
        seen.setdefault(key, f.name)


def build_formula_set(
    spec: FormulaSpec,
    aus: Optional[Sequence[Any]] = None,
    emotions: Optional[Sequence[str]] = None,
    keep: Sequence[str] = (),
    drop: Sequence[str] = (),
) -> FormulaSet:
    """Select (`select_formulas`), restrict to ``aus`` (None: every id the selected
    formulas use) and build."""
    formulas = select_formulas(spec, emotions, keep, drop)
    au_ids = used_ids(formulas) if aus is None else check_au_ids(spec, aus)
    formulas = restrict(formulas, au_ids, spec.source)
    _warn_identical(formulas, spec.source)
    return FormulaSet(formulas, au_ids, weight_matrix(formulas, au_ids), spec.source, spec.names)


def load_path(
    path: PathLike,
    aus: Optional[Sequence[Any]] = None,
    emotions: Optional[Sequence[str]] = None,
    keep: Sequence[str] = (),
    drop: Sequence[str] = (),
) -> FormulaSet:
    """`load_formulas` for a file path."""
    return build_formula_set(read_spec(path), aus, emotions, keep, drop)
