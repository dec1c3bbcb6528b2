"""Data: file systems, listing, dataset readers (``readers``), training-time loading
(``loading``). Import the submodule you need; this package imports nothing heavy."""
