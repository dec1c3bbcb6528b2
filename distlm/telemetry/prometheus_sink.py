"""The Prometheus sink: the trainer's metrics (rank 0 exports them), all named ``distlm_train_*``.

On when ``telemetry.metrics_port`` is not 0 (the exporter itself is started by the
trainer, ``distlm.telemetry.server``). The TensorBoard and MLflow sinks log the same
names (``distlm.telemetry.scalars``).

| metric | type | labels | meaning |
|---|---|---|---|
| ``distlm_train_images_per_second`` | gauge | | samples/s of the whole job (all workers) |
| ``distlm_train_images_total`` | counter | | samples seen by all workers |
| ``distlm_train_step`` | gauge | | optimiser steps done |
| ``distlm_train_epoch`` | gauge | | current epoch |
| ``distlm_train_loss`` | gauge | ``term`` | ``loss``, ``loss_supervised``, ``loss_aux`` |
| ``distlm_train_lambda`` | gauge | ``which`` | ``lambda1``, ``lambda2`` |
| ``distlm_train_centroid_drift`` | gauge | | mean movement of the normalised centroids per step |
| ``distlm_train_selflabel_class_total`` | counter | ``cls`` | self-labels assigned to each class |
| ``distlm_train_selflabel_confidence`` | gauge | | mean confidence of this step's self-labels |
| ``distlm_train_selflabel_kept_ratio`` | gauge | | fraction of self-labels above the threshold |
| ``distlm_train_data_wait_seconds`` | histogram | | time a step waited for its batch |
| ``distlm_train_eval`` | gauge | ``metric`` | last evaluation (accuracy, avg_accuracy, f1 averages) |
"""
from __future__ import annotations

import math
from typing import Mapping, Optional, Sequence

from distlm.telemetry.sink import SINKS, MetricSink

_METRICS = None


def _build():
    # imported here: a trainer that exports nothing (other ranks, torchrun, a GPU box
    # without prometheus_client) never needs the package
    from prometheus_client import Counter, Gauge, Histogram

    from distlm.telemetry.server import get_registry

    r = get_registry()
    return dict(
        ips=Gauge("distlm_train_images_per_second", "Training samples per second (all workers)", registry=r),
        images=Counter("distlm_train_images", "Training samples seen (all workers)", registry=r),
        step=Gauge("distlm_train_step", "Optimiser steps done", registry=r),
        epoch=Gauge("distlm_train_epoch", "Current epoch", registry=r),
        loss=Gauge("distlm_train_loss", "Loss terms of the last step", ["term"], registry=r),
        lam=Gauge("distlm_train_lambda", "Loss weights of the last step", ["which"], registry=r),
        drift=Gauge("distlm_train_centroid_drift", "Mean movement of normalised centroids per step", registry=r),
        hist=Counter("distlm_train_selflabel_class", "Self-labels per class", ["cls"], registry=r),
        conf=Gauge("distlm_train_selflabel_confidence", "Mean self-label confidence", registry=r),
        kept=Gauge("distlm_train_selflabel_kept_ratio", "Fraction of self-labels kept", registry=r),
        wait=Histogram("distlm_train_data_wait_seconds", "Time a step waited for its batch", registry=r,
                       buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5)),
        evalm=Gauge("distlm_train_eval", "Last evaluation metrics", ["metric"], registry=r),
    )


@SINKS.register("prometheus")
class PrometheusSink(MetricSink):
    """Updates the process-wide Prometheus metrics (``self.m``: name → metric object)."""

    def __init__(self, class_names: Sequence[str] = ()):
        global _METRICS
        self.class_names = list(class_names)
        if _METRICS is None:
            _METRICS = _build()
        self.m = _METRICS

    @classmethod
    def wanted(cls, spec) -> bool:
        return spec.telemetry.metrics_port != 0

    @classmethod
    def from_spec(cls, spec) -> "PrometheusSink":
        return cls(spec.data.class_names)

    def window(self, *, step: int, epoch: int, images: int, seconds: float, waits: Sequence[float],
               last: Mapping[str, float], hist: Optional[Sequence[int]] = None) -> None:
        """Update from the steps read since the last call (host floats): ``images`` of all
        workers in ``seconds``, each step's data ``waits``, the ``last`` step's values
        and the window's summed self-label histogram."""
        m = self.m
        m["step"].set(step)
        m["epoch"].set(epoch)
        m["images"].inc(images)
        if seconds > 0:
            m["ips"].set(images / seconds)
        for w in waits:
            m["wait"].observe(w)
        for k in ("loss", "loss_supervised", "loss_aux"):
            if math.isfinite(last.get(k, math.nan)):
                m["loss"].labels(term=k).set(last[k])
        for k in ("lambda1", "lambda2"):
            if k in last:
                m["lam"].labels(which=k).set(last[k])
        if not math.isnan(last.get("centroid_drift", math.nan)):
            m["drift"].set(last["centroid_drift"])
        for i, n in enumerate(hist or ()):
            if n:
                name = self.class_names[i] if i < len(self.class_names) else str(i)
                m["hist"].labels(cls=name).inc(n)
        if not math.isnan(last.get("selflabel_conf", math.nan)):
            m["conf"].set(last["selflabel_conf"])
        if not math.isnan(last.get("selflabel_kept", math.nan)):
            m["kept"].set(last["selflabel_kept"])

    def evaluation(self, metrics: Mapping[str, float], step: int = 0) -> None:
        for k, v in metrics.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                self.m["evalm"].labels(metric=k).set(v)
