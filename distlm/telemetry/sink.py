"""`MetricSink`: where rank 0 sends the trainer's metrics, and the registry of sinks.

A sink is told about each window of steps the trainer reads and each evaluation; the
trainer talks to all of them through `distlm.telemetry.trainer.TrainerTelemetry`.
Each entry of ``SINKS`` is a sink class with two class methods, ``wanted(spec)`` (does
the job spec turn it on) and ``from_spec(spec)``; ``distlm.telemetry.sinks`` imports
every built-in sink module, which registers it.

A sink whose package is optional imports it only in ``from_spec``: with the key unset
the package is never imported, and with the key set but the package missing
`missing_package` gives the one-line error, before any step is trained.
"""
from __future__ import annotations

import importlib.util
from typing import Mapping, Optional, Sequence

from distlm.errors import UserError
from distlm.registry import Registry


class MissingPackageError(UserError):
    """A telemetry key is set but the package it writes with is not installed."""


class MetricSink:
    """Receives rank 0's metrics; every method is a no-op unless overridden."""

    @classmethod
    def wanted(cls, spec) -> bool:
        """Does job spec ``spec`` turn this sink on?"""
        return False

    @classmethod
    def check(cls, spec) -> None:
        """Raise `MissingPackageError` when the sink could not be made (checked before
        Ray starts, without importing the package)."""

    @classmethod
    def from_spec(cls, spec) -> "MetricSink":
        raise NotImplementedError

    def window(self, *, step: int, epoch: int, images: int, seconds: float, waits: Sequence[float],
               last: Mapping[str, float], hist: Optional[Sequence[int]] = None) -> None:
        """The steps read since the last call: ``images`` of all workers in ``seconds``,
        each step's data ``waits``, the ``last`` step's values (``loss``,
        ``loss_supervised``, ``loss_aux``, ``lambda1``, ``lambda2``, ``centroid_drift``,
        ``selflabel_conf``, ``selflabel_kept``) and the window's self-label histogram
        (``(K,)`` counts per class)."""

    def evaluation(self, metrics: Mapping[str, float], step: int) -> None:
        """An evaluation's metrics (non-numbers are ignored) after ``step`` steps."""

    def close(self, failed: bool = False) -> None:
        """Flush and release; ``failed``: training stopped on an error."""


SINKS: Registry[type] = Registry("metric sink")


def missing_package(module: str, pip_name: str, key: str) -> Optional[MissingPackageError]:
    """The error for ``key`` when ``module`` cannot be imported (found without importing it)."""
    if importlib.util.find_spec(module) is not None:
        return None
    return MissingPackageError(f"{key} is set but the {pip_name!r} package is not installed: "
                               f"pip install {pip_name} (or unset {key})")
