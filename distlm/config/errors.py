"""`SpecError`: every bad job spec raises it, naming the file, the key and the problem."""
from __future__ import annotations

import difflib
from typing import Iterable, Optional

from distlm.errors import UserError


class SpecError(UserError):
    """A job spec is wrong. ``str(err)`` reads ``<source>: <dotted.key>: <problem>``.

    Attributes keep the parts apart so callers (and tests) need not parse the text.
    """

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


def closest(name: str, known: Iterable[str]) -> Optional[str]:
    """The known name most like ``name`` (difflib), or None when nothing is close."""
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    return matches[0] if matches else None


def unknown_key_problem(name: str, known: Iterable[str]) -> str:
    """Text for an unknown key: the closest known one (if any) and the full list."""
    known = sorted(known)
    guess = closest(name, known)
    hint = f"; did you mean {guess!r}?" if guess is not None else ""
    return f"unknown key {name!r}{hint}; known keys: {', '.join(known)}"
