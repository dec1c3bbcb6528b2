"""Pseudo-emotion formula sets: map a network's M output scores (action units, or
any binary attributes) to K pseudo-emotion scores by (weighted) means.

    >>> from distlm.formulas import load_formulas
    >>> fs = load_formulas("emfacs", aus=[1, 2, 4, 5, 6, 9, 12, 17, 20, 25, 26, 43])
    >>> p = fs(au_scores)        # (B, 12) -> (B, 6)
    >>> u = fs.assign(au_scores) # (B,) pseudo-classes

File format and built-in sets: docs/formulas.md.
"""
from distlm.formulas.builtin import FORMULA_SETS, builtin_path, list_formula_sets
from distlm.formulas.errors import FormulaError
from distlm.formulas.ids import FACS_AUS
from distlm.formulas.api import load_formulas
from distlm.formulas.job import CONTEMPT, job_formulas
from distlm.formulas.load import build_formula_set, load_path, read_spec, write_spec
from distlm.formulas.module import FormulaSet
from distlm.formulas.spec import Formula, FormulaSpec

__all__ = [
    "CONTEMPT",
    "FACS_AUS",
    "FORMULA_SETS",
    "Formula",
    "FormulaError",
    "FormulaSet",
    "FormulaSpec",
    "build_formula_set",
    "builtin_path",
    "job_formulas",
    "list_formula_sets",
    "load_formulas",
    "load_path",
    "read_spec",
    "write_spec",
]
