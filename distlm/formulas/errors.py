"""The one error type for bad formula files and bad ``load_formulas`` arguments."""
from __future__ import annotations

from distlm.errors import UserError


class FormulaError(UserError):
    """A formula set is malformed or cannot be restricted as asked.

    The message always names the file (or the built-in set) and the culprit.
    """
