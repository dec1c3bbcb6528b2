"""Restrict a `FormulaSpec` to the ids a network outputs, and build its matrix (pure)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import torch

from distlm.formulas.errors import FormulaError
from distlm.formulas.spec import Formula, FormulaSpec, check_id


def select_formulas(spec: FormulaSpec, emotions: Optional[Sequence[str]],
                    keep: Sequence[str] = (), drop: Sequence[str] = ()) -> List[Formula]:
    """``emotions=None``: every formula not marked ``optional``, plus those named in
    ``keep``, less those named in ``drop``, in file order (names the file lacks are
    ignored: a job names ``contempt`` whatever its set); otherwise exactly the named
    ones, in the given order (optional ones allowed; ``keep``/``drop`` not allowed)."""
    if emotions is None:
        for arg, names in (("keep", keep), ("drop", drop)):
            if isinstance(names, str):
                raise FormulaError(f"{spec.source}: {arg}= must be a list of names, got the string {names!r}")
        chosen = [f for f in spec.formulas
                  if (not f.optional or f.name in keep) and f.name not in drop]
        if not chosen:
            raise FormulaError(f"{spec.source}: drop={list(drop)} leaves no emotion")
        return chosen
    if keep or drop:
        raise FormulaError(f"{spec.source}: give emotions= or keep=/drop=, not both")
    if isinstance(emotions, str):
        raise FormulaError(f"{spec.source}: emotions= must be a list of names, got the string {emotions!r}")
    by_name = {f.name: f for f in spec.formulas}
    chosen: List[Formula] = []
    for name in emotions:
        if name not in by_name:
            raise FormulaError(
                f"{spec.source}: emotions=: unknown emotion {name!r}; known: {', '.join(by_name)}"
            )
        if any(f.name == name for f in chosen):
            raise FormulaError(f"{spec.source}: emotions=: {name!r} is asked for twice")
        chosen.append(by_name[name])
    if not chosen:
        raise FormulaError(f"{spec.source}: emotions=: at least one emotion is needed")
    return chosen


def check_au_ids(spec: FormulaSpec, aus: Sequence[Any]) -> List[int]:
    """Validate the ``aus=`` argument: ints of the file's id scheme, no repeats."""
    if isinstance(aus, (str, bytes)) or not isinstance(aus, Sequence):
        raise FormulaError(f"{spec.source}: aus= must be a list of integer ids, got {aus!r}")
    out: List[int] = []
    for a in aus:
        i = check_id(a, spec.ids, spec.source, "aus=")
        if i in out:
            raise FormulaError(f"{spec.source}: aus=: id {i} is given twice")
        out.append(i)
    if not out:
        raise FormulaError(f"{spec.source}: aus= is empty")
    return out


def restrict(formulas: List[Formula], au_ids: Sequence[int], source: str) -> List[Formula]:
    """Keep in each formula only the ids in ``au_ids``; an emptied formula is an error."""
    keep = set(au_ids)
    out: List[Formula] = []
    for f in formulas:
        weights = {i: w for i, w in f.weights.items() if i in keep}
        if not weights:
            raise FormulaError(
                f"{source}: emotion {f.name!r} is left with no id after restriction: it uses "
                f"{sorted(f.weights)}, none of which is in aus={list(au_ids)}; drop it with "
                f"emotions=[...] or pass those ids"
            )
        out.append(Formula(f.name, weights, f.optional))
    return out


def used_ids(formulas: List[Formula]) -> List[int]:
    """Sorted union of the ids the formulas use (the default ``aus``)."""
    return sorted({i for f in formulas for i in f.weights})


def weight_matrix(formulas: List[Formula], au_ids: Sequence[int]) -> torch.Tensor:
    """``W (M, K)`` with ``W[m, k] = w_mk / sum_m w_mk``: column ``k`` averages
    (weighted) the ids of formula ``k``; ids outside a formula get 0."""
    row: Dict[int, int] = {i: m for m, i in enumerate(au_ids)}
    w = torch.zeros(len(au_ids), len(formulas), dtype=torch.float64)
    for k, f in enumerate(formulas):
        total = sum(f.weights.values())
        for i, weight in f.weights.items():
            w[row[i], k] = weight / total
    return w.to(torch.float32)
