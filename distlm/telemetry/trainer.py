"""`TrainerTelemetry`: the trainer's one handle on every metric sink of rank 0.

The trainer calls ``window(...)`` for each window of steps it reads, ``evaluation``
after each evaluation and ``close`` once at the end; this fans the calls out to the
sinks (``distlm.telemetry.sinks``: Prometheus, TensorBoard, MLflow). Other ranks hold
one without sinks, so every call is a no-op there.

Example::

    telemetry = TrainerTelemetry.for_rank(spec, rank)   # before the first step
    try:
        ...  telemetry.window(step=..., ...)
    finally:
        telemetry.close()
"""
from __future__ import annotations

from typing import List, Mapping, Optional, Sequence

from distlm.telemetry.sink import MetricSink


class TrainerTelemetry:
    """Fans the trainer's metrics out to ``sinks``; ``enabled=True`` adds the Prometheus sink.

    ``TrainerTelemetry(False)`` sends nothing anywhere (tests, the demo, other ranks).
    """

    def __init__(self, enabled: bool = False, class_names: Sequence[str] = (),
                 sinks: Sequence[MetricSink] = ()) -> None:
        self.sinks: List[MetricSink] = list(sinks)
        if enabled:
            from distlm.telemetry.prometheus_sink import PrometheusSink

            self.sinks.insert(0, PrometheusSink(class_names))
        self.closed = False

    @classmethod
    def for_rank(cls, spec, rank: int, without: Sequence[str] = ()) -> "TrainerTelemetry":
        """Rank 0: every sink the job spec turns on but those named in ``without`` (a
        missing package raises here, before training); any other rank: none."""
        if rank != 0:
            return cls()
        from distlm.telemetry.sinks import build_sinks

        return cls(sinks=build_sinks(spec, without))

    @property
    def enabled(self) -> bool:
        return bool(self.sinks)

    def window(self, *, step: int, epoch: int, images: int, seconds: float, waits: Sequence[float],
               last: Mapping[str, float], hist: Optional[Sequence[int]] = None) -> None:
        """The steps read since the last call (see `MetricSink.window`)."""
        for sink in self.sinks:
            sink.window(step=step, epoch=epoch, images=images, seconds=seconds, waits=waits, last=last, hist=hist)

    def evaluation(self, metrics: Mapping[str, float], step: int = 0) -> None:
        for sink in self.sinks:
            sink.evaluation(metrics, step)

    def close(self, failed: bool = False) -> None:
        """Flush and close every sink once (later calls do nothing)."""
        if self.closed:
            return
        self.closed = True
        errors = []
        for sink in self.sinks:
            try:
                sink.close(failed)
            except Exception as err:  # close the others all the same
                errors.append(err)
        if errors:
            raise errors[0]
