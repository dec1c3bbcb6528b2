"""The ``telemetry`` section of a job spec: where rank 0 sends the trainer's metrics.

Prometheus is on by default (``metrics_port``); TensorBoard and MLflow are off until
their key is set. Every field is documented in docs/jobs.md and docs/telemetry.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass
class MlflowSpec:
    """An MLflow run that rank 0 logs the trainer's metrics to (``telemetry.mlflow: {}``:
    MLflow's own default tracking URI, experiment ``distlm``, run named like the job)."""

    tracking_uri: Optional[str] = None    # None: MLflow's default (MLFLOW_TRACKING_URI, else ./mlruns)
    experiment: str = "distlm"            # created when missing
    run_name: Optional[str] = None        # None: run.name, else the job's name


@dataclass
class TelemetrySpec:
    metrics_port: int = -1                  # Prometheus exporter; -1 = any free port (logged), 0 = off
    host: str = "127.0.0.1"                 # interface to bind; 0.0.0.0 on Kubernetes for scraping
    log_every: int = 50                     # steps between metric updates
    tensorboard: Optional[str] = None       # log directory of TensorBoard event files; None: off
    mlflow: Optional[MlflowSpec] = None     # MLflow run; None: off
