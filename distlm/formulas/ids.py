"""Which integer ids a formula file may use (its ``ids:`` scheme).

Ids are only names of output columns; nothing below this file knows about faces.
``facs`` accepts the action-unit numbers of the Facial Action Coding System
(Ekman, Friesen & Hager 2002); ``any`` accepts every positive integer (e.g. the
binary attributes 1..8 of some other domain).
"""
from __future__ import annotations

from typing import Callable, Dict, FrozenSet

# Main codes 1, 2, 4-39 (there is no AU3), eye/lid codes 41-46 (AU40 is unused),
# head positions 51-58 and eye positions 61-66.
FACS_AUS: FrozenSet[int] = frozenset(
    [1, 2, *range(4, 40), *range(41, 47), *range(51, 59), *range(61, 67)]
)


def is_facs_au(i: int) -> bool:
    return i in FACS_AUS


def is_positive(i: int) -> bool:
    return i >= 1


# scheme name -> (predicate, how to describe a valid id in an error message)
ID_SCHEMES: Dict[str, tuple[Callable[[int], bool], str]] = {
    "facs": (is_facs_au, "a FACS action-unit number (1, 2, 4-39, 41-46, 51-58, 61-66)"),
    "any": (is_positive, "a positive integer"),
}


def is_int(x: object) -> bool:
    """True for real integers; YAML booleans (``true``) are not ids."""
    return isinstance(x, int) and not isinstance(x, bool)
