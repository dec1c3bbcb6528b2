"""``UserError``: the base of every error a user fixes by changing what they gave.

A bad job spec, an unknown name, a missing or foreign checkpoint, a path that does not
exist, an empty input, a GPU asked for on a machine without one: the command-line
entry points print such an error as one line naming the thing and the fix, and exit
with status 2 (:func:`distlm.cli.errors.guard`). Anything else is a bug or a failure of
the machine and keeps its traceback.
"""


class UserError(ValueError):
    """A mistake in the command line, the job spec or the inputs; ``str(err)`` is the message."""
