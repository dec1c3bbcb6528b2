"""The trainer's metrics as flat ``name → float`` scalars, named as in Prometheus.

A Prometheus label becomes a path part: ``distlm_train_loss{term="loss_aux"}`` is
``distlm_train_loss/loss_aux``; a counter keeps its ``_total`` name and its running
total; the data-wait histogram becomes the window's mean and max
(``distlm_train_data_wait_seconds/mean``, ``/max``). `ScalarSink` turns the trainer's
calls into such dicts for sinks that log scalars by step (TensorBoard, MLflow).
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Dict, Mapping, Optional, Sequence

from distlm.telemetry.sink import MetricSink

PREFIX = "distlm_train_"
LOSS_TERMS = ("loss", "loss_supervised", "loss_aux")
LAMBDAS = ("lambda1", "lambda2")
#: a value of the step row → its scalar name, when it is a plain gauge
GAUGES = {"centroid_drift": "distlm_train_centroid_drift",
          "selflabel_conf": "distlm_train_selflabel_confidence",
          "selflabel_kept": "distlm_train_selflabel_kept_ratio"}


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class ScalarSink(MetricSink):
    """A sink that writes ``{name: value}`` at a step; subclasses define `write`."""

    def __init__(self, class_names: Sequence[str] = ()) -> None:
        self.class_names = list(class_names)
        self.images_total = 0
        self.class_totals: Dict[str, int] = defaultdict(int)

    def write(self, step: int, scalars: Mapping[str, float]) -> None:
        raise NotImplementedError

    def window_scalars(self, *, step: int, epoch: int, images: int, seconds: float, waits: Sequence[float],
                       last: Mapping[str, float], hist: Optional[Sequence[int]] = None) -> Dict[str, float]:
        """The window as scalars (running totals updated); non-finite values are left out."""
        self.images_total += images
        out: Dict[str, float] = {f"{PREFIX}step": step, f"{PREFIX}epoch": epoch,
                                 f"{PREFIX}images_total": self.images_total}
        if seconds > 0:
            out[f"{PREFIX}images_per_second"] = images / seconds
        if waits:
            out[f"{PREFIX}data_wait_seconds/mean"] = sum(waits) / len(waits)
            out[f"{PREFIX}data_wait_seconds/max"] = max(waits)
        out.update({f"{PREFIX}loss/{k}": last[k] for k in LOSS_TERMS if _finite(last.get(k))})
        out.update({f"{PREFIX}lambda/{k}": last[k] for k in LAMBDAS if _finite(last.get(k))})
        out.update({name: last[k] for k, name in GAUGES.items() if _finite(last.get(k))})
        for i, n in enumerate(hist or ()):
            if n:
                name = self.class_names[i] if i < len(self.class_names) else str(i)
                self.class_totals[name] += int(n)
        out.update({f"{PREFIX}selflabel_class_total/{k}": v for k, v in self.class_totals.items()})
        return {k: float(v) for k, v in out.items()}

    def window(self, **kw) -> None:
        self.write(kw["step"], self.window_scalars(**kw))

    def evaluation(self, metrics: Mapping[str, float], step: int) -> None:
        self.write(step, {f"{PREFIX}eval/{k}": float(v) for k, v in metrics.items() if _finite(v)})
