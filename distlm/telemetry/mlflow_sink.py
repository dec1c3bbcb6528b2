"""The MLflow sink: rank 0's metrics in an MLflow run (``telemetry.mlflow``).

Metric keys are the Prometheus names with labels as path parts
(``distlm_train_loss/loss``, ``distlm_train_eval/acc``; ``distlm.telemetry.scalars``),
logged with the trainer's step. The run is opened when the sink is made (before the
first step: a tracking URI that cannot be opened stops the job at once) and ended
``FINISHED`` or, when training stopped on an error, ``FAILED``.

Uses ``mlflow.tracking.MlflowClient`` (no global active run, so a caller's own MLflow
run is left alone) from the ``mlflow-skinny`` package, which is all the client needs
(the full ``mlflow`` package, with its server and UI, works the same).
"""
from __future__ import annotations

import re
import time
from typing import Mapping, Optional, Sequence

from distlm.telemetry.scalars import ScalarSink
from distlm.errors import UserError
from distlm.telemetry.sink import SINKS, missing_package

KEY = "telemetry.mlflow"
#: characters MLflow accepts in a metric key; anything else (from a class name) becomes "_"
_UNSAFE = re.compile(r"[^\w\-. /]")


@SINKS.register("mlflow")
class MlflowSink(ScalarSink):
    """Logs each window's and evaluation's scalars to one MLflow run (``self.run_id``)."""

    def __init__(self, tracking_uri: Optional[str], experiment: str, run_name: str,
                 class_names: Sequence[str] = (), tags: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(class_names)
        self.check(None)
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient

        try:
            self.client = MlflowClient(tracking_uri)
            found = self.client.get_experiment_by_name(experiment)
            exp_id = found.experiment_id if found is not None else self.client.create_experiment(experiment)
            self.run_id = self.client.create_run(exp_id, run_name=run_name, tags=dict(tags or {})).info.run_id
        except MlflowException as err:
            text = " ".join(str(err).split())
            raise UserError(f"{KEY}: cannot open a run at tracking URI {tracking_uri!r}: {text}") from None
        self.tracking_uri = tracking_uri

    @classmethod
    def wanted(cls, spec) -> bool:
        return spec.telemetry.mlflow is not None

    @classmethod
    def check(cls, spec) -> None:
        err = missing_package("mlflow", "mlflow-skinny", KEY)
        if err is not None:
            raise err

    @classmethod
    def from_spec(cls, spec) -> "MlflowSink":
        m = spec.telemetry.mlflow
        return cls(m.tracking_uri, m.experiment, m.run_name or spec.run.name or spec.name,
                   spec.data.class_names, tags={"distlm.job": spec.name})

    def write(self, step: int, scalars: Mapping[str, float]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(_UNSAFE.sub("_", k), v, now, step) for k, v in scalars.items()]
        if metrics:
            self.client.log_batch(self.run_id, metrics=metrics)

    def close(self, failed: bool = False) -> None:
        self.client.set_terminated(self.run_id, "FAILED" if failed else "FINISHED")
