"""prepare's progress: a log line every ``every_s`` seconds (done/total, failures, rate,
ETA; :class:`distlm.telemetry.progress.Progress`), a live bar on a terminal, and the
Prometheus metrics."""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, Optional

from distlm.telemetry.pipeline import PrepareMetrics
from distlm.telemetry.progress import Progress as ProgressLine

log = logging.getLogger("distlm.prepare")


class Progress:
    """Counts written blocks; logs every ``every_s`` seconds and at the end."""

    def __init__(self, inputs: int, slices: int, done_inputs: int, done_slices: int,
                 metrics: Optional[PrepareMetrics] = None, every_s: float = 10.0) -> None:
        self.inputs, self.slices = inputs, slices
        self.done_inputs, self.done_slices = done_inputs, done_slices
        self.metrics = metrics
        self.every_s = every_s
        self.last = time.monotonic()
        self.counts: Dict[str, int] = {}
        self.line = ProgressLine("prepare", inputs, "images", start_done=done_inputs)
        if metrics is not None:
            metrics.inputs.set(inputs)
            metrics.slices_total.set(slices)
            metrics.slices_done.set(done_slices)

    def slice_done(self, rows: int, counts: Dict[str, Any]) -> None:
        self.done_inputs += rows
        self.done_slices += 1
        for outcome, n in counts["outcomes"].items():
            self.counts[outcome] = self.counts.get(outcome, 0) + n
        self.line.update(self.done_inputs, failures=self.counts.get("unreadable", 0),
                         blocks=f"{self.done_slices}/{self.slices}",
                         **{k: v for k, v in sorted(self.counts.items()) if k not in ("ok", "unreadable")})
        if self.metrics is not None:
            self.metrics.record_slice(counts["outcomes"], counts["reasons"], counts["faces_found"])
            self.metrics.rate.set(self.line.rate() or 0.0)
        now = time.monotonic()
        if now - self.last >= self.every_s:
            self.last = now
            self.log()

    def log(self) -> None:
        self.line.close()
        log.info("%s", self.line.line())
