"""`load_formulas`: a built-in set name or a YAML path -> `FormulaSet`."""
from __future__ import annotations

from typing import Any, Optional, Sequence

from distlm.formulas.builtin import FORMULA_SETS, looks_like_path, unknown_set_error
from distlm.formulas.load import PathLike, load_path
from distlm.formulas.module import FormulaSet


def load_formulas(
    source: PathLike,
    aus: Optional[Sequence[Any]] = None,
    *,
    emotions: Optional[Sequence[str]] = None,
    keep: Sequence[str] = (),
    drop: Sequence[str] = (),
) -> FormulaSet:
    """Load a formula set and restrict it to the ids a network outputs.

    Args:
        source: a built-in name (``list_formula_sets()``: ``"emfacs"``, ``"du2014"``)
            or the path of a YAML file (format in docs/formulas.md).
        aus: the M output ids, in output-column order; ``None`` keeps every id the
            selected formulas use (sorted).
        emotions: which emotions, in which order; ``None`` keeps all but those marked
            ``optional`` (EMFACS contempt), in file order.
        keep: with ``emotions=None``, optional emotions to keep all the same.
        drop: with ``emotions=None``, emotions to leave out. Names a set lacks are
            ignored in both (``drop=["contempt"]`` suits every set).

    Returns:
        A `FormulaSet` mapping ``(B, M)`` scores to ``(B, K)`` pseudo-emotion scores.

    Raises:
        FormulaError: unknown set name, bad file, or an emotion emptied by ``aus``.

    Example::

        >>> fs = load_formulas("emfacs", aus=[1, 2, 4, 5, 6, 9, 12, 17, 20, 25, 26, 43])
        >>> fs.emotions
        ['happiness', 'sadness', 'surprise', 'fear', 'anger', 'disgust']
        >>> fs.aus("fear")
        [1, 2, 4, 5, 20, 26]
        >>> load_formulas("emfacs", keep=["contempt"]).emotions[-1]
        'contempt'
    """
    if isinstance(source, str) and source in FORMULA_SETS:
        # a set registered without keep/drop parameters still loads when they are unused
        select = {"keep": keep, "drop": drop} if keep or drop else {}
        return FORMULA_SETS.create(source, aus=aus, emotions=emotions, **select)
    if not looks_like_path(source):
        raise unknown_set_error(source)
    return load_path(source, aus, emotions, keep, drop)
