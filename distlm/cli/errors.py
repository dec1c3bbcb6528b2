"""One way every command reports a mistake: one line on stderr, exit status 2.

``guard(prog, body)`` runs a command's body; a :class:`distlm.errors.UserError` (bad
job spec, unknown name, missing or foreign checkpoint, empty input, ...) or an
``OSError`` about a path the user gave becomes ``<prog>: error: <message>`` and status
2, without a traceback. Anything else propagates: it is a bug or a machine failure.
"""
from __future__ import annotations

import sys
from typing import Callable, Optional, Tuple, Type

from distlm.errors import UserError

PATH_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError)


def one_line(err: BaseException) -> str:
    """The message of ``err`` on a single line (``KeyError`` without its quotes)."""
    text = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    if isinstance(err, PATH_ERRORS) and getattr(err, "filename", None) and err.filename not in str(text):
        text = f"{err.filename}: {err.strerror or text}"
    return " ".join(str(text).split()) or type(err).__name__


def fail(prog: str, message: str) -> int:
    """Print ``<prog>: error: <message>`` and return exit status 2."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def guard(prog: str, body: Callable[[], int], also: Tuple[Type[BaseException], ...] = ()) -> int:
    """``body()``, with user errors (and ``also``: a command's own input errors, such as
    a reader's ``ValueError`` naming a bad label file) printed as one line, exit status 2."""
    try:
        return body()
    except (UserError,) + PATH_ERRORS + tuple(also) as err:
        return fail(prog, one_line(err))


def require_path(path: str, what: str, fix: str) -> None:
    """Raise a :class:`UserError` when a local ``path`` does not exist (``s3://`` is left to the reader)."""
    import os

    if "://" not in path and not os.path.exists(path):
        raise UserError(f"{what} {path!r} does not exist ({fix})")


def require_checkpoint(path: Optional[str], what: str = "checkpoint") -> None:
    """A local checkpoint must be a ``state.pt`` or a folder holding one (``s3://`` is
    left to the reader); checked before any heavy import or Ray start."""
    import os

    if not path or "://" in path:
        return
    fix = "give a checkpoint_* folder of a run or its state.pt"
    if not os.path.exists(path):
        raise UserError(f"{what} {path!r} does not exist ({fix})")
    if os.path.isdir(path) and not os.path.exists(os.path.join(path, "state.pt")):
        raise UserError(f"{what} {path!r} holds no state.pt ({fix})")
