"""The built-in metric sinks, and what a job spec turns on.

Importing this module registers every built-in sink in ``SINKS`` (prometheus,
tensorboard, mlflow) without importing any optional package.

    sinks = build_sinks(spec)      # rank 0 only: [PrometheusSink, TensorBoardSink, ...]
"""
from __future__ import annotations

import dataclasses
import os
from typing import List, Sequence

from distlm.telemetry import mlflow_sink, prometheus_sink, tensorboard_sink  # noqa: F401  (register)
from distlm.telemetry.sink import SINKS, MetricSink


def wanted_sinks(spec, without: Sequence[str] = ()) -> List[str]:
    """Names of the sinks ``spec`` turns on (but ``without``), in registry order."""
    return [name for name in SINKS.list() if name not in without and SINKS.get(name).wanted(spec)]


def check_sinks(spec, without: Sequence[str] = ()) -> None:
    """Raise a one-line `~distlm.telemetry.sink.MissingPackageError` for a sink that is
    on but whose package is missing (no package is imported)."""
    for name in wanted_sinks(spec, without):
        SINKS.get(name).check(spec)


def build_sinks(spec, without: Sequence[str] = ()) -> List[MetricSink]:
    """Every sink ``spec`` turns on (but ``without``), made (and opened) now."""
    check_sinks(spec, without)  # all packages first: no run is opened when another sink cannot be made
    return [SINKS.get(name).from_spec(spec) for name in wanted_sinks(spec, without)]


def with_absolute_paths(spec):
    """``spec`` with a relative ``telemetry.tensorboard`` directory and a relative
    ``file:`` MLflow tracking URI made absolute here (the driver's working directory),
    so that rank 0 writes there wherever Ray starts it."""
    t = spec.telemetry
    changes = {}
    if t.tensorboard is not None:
        changes["tensorboard"] = os.path.abspath(t.tensorboard)
    uri = t.mlflow.tracking_uri if t.mlflow is not None else None
    if uri is not None and uri.startswith("file:") and not uri.startswith("file:/"):
        mlflow = dataclasses.replace(t.mlflow, tracking_uri="file:" + os.path.abspath(uri[len("file:"):]))
        changes["mlflow"] = mlflow
    if not changes:
        return spec
    return dataclasses.replace(spec, telemetry=dataclasses.replace(t, **changes))
