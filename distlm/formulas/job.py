"""The formula set a job spec asks for: ``selflabel.formulas`` restricted to
``data.au_ids``, with or without contempt (``selflabel.drop_contempt``)."""
from __future__ import annotations

from typing import Any, Optional

from distlm.formulas.api import load_formulas
from distlm.formulas.module import FormulaSet

#: The emotion ``selflabel.drop_contempt`` names. EMFACS contempt (AU 12+14) is
#: unilateral, which symmetric AU scores cannot show; the paper leaves it out.
CONTEMPT = "contempt"


def job_formulas(spec: Any, source: Optional[str] = None) -> FormulaSet:
    """The pseudo-emotion formulas of job ``spec`` (a `distlm.config.JobSpec`).

    Args:
        spec: reads ``selflabel.formulas``, ``selflabel.drop_contempt`` and
            ``data.au_ids`` (the ``M`` output ids, in column order).
        source: a set name or YAML path used instead of ``selflabel.formulas``.

    Returns:
        A `FormulaSet` ``(B, M) -> (B, K)``. ``drop_contempt: true`` leaves a formula
        named ``contempt`` out even where the file does not mark it optional;
        ``false`` keeps it even where the file marks it optional (EMFACS does).
        Other optional formulas stay out; a set without contempt is unaffected.

    Example::

        >>> job_formulas(spec).emotions          # emfacs, EmotioNet's 12 AUs
        ['happiness', 'sadness', 'surprise', 'fear', 'anger', 'disgust']
    """
    name = source if source is not None else spec.selflabel.formulas
    choice = {"drop": [CONTEMPT]} if spec.selflabel.drop_contempt else {"keep": [CONTEMPT]}
    return load_formulas(name, aus=list(spec.data.au_ids), **choice)
