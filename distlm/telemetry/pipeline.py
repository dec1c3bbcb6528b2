"""Metrics of ``distlm.prepare`` (all prefixed ``distlm_prepare_``; see docs/prepare.md).

=========================================  =======  ==========================================
name                                       type     meaning
=========================================  =======  ==========================================
``distlm_prepare_images_total{outcome}``   counter  inputs processed, by outcome
                                                    (ok, no_face, multiple_faces, unreadable)
``distlm_prepare_faces_found_total``       counter  faces found by the detector (all of them)
``distlm_prepare_skipped_total{reason}``   counter  inputs without a crop, by reason
                                                    (no_face, or the decode reason: truncated...)
``distlm_prepare_images_per_second``       gauge    throughput since the run started
``distlm_prepare_slices_done``             gauge    finished slices (incl. ones resumed)
``distlm_prepare_slices_total``            gauge    slices in the run
``distlm_prepare_inputs_total``            gauge    inputs in the run
=========================================  =======  ==========================================
"""
from __future__ import annotations

import threading
import weakref
from typing import Mapping, Optional

from prometheus_client import CollectorRegistry, Counter, Gauge

from distlm.telemetry.server import get_registry

PREFIX = "distlm_prepare_"


class PrepareMetrics:
    """The prepare metric set, registered once per registry (see :meth:`for_registry`)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.images = Counter(PREFIX + "images", "Inputs processed, by outcome", ["outcome"], registry=registry)
        self.faces = Counter(PREFIX + "faces_found", "Faces found by the detector", registry=registry)
        self.skipped = Counter(PREFIX + "skipped", "Inputs without a crop, by reason", ["reason"],
                               registry=registry)
        self.rate = Gauge(PREFIX + "images_per_second", "Images per second since start", registry=registry)
        self.slices_done = Gauge(PREFIX + "slices_done", "Finished slices", registry=registry)
        self.slices_total = Gauge(PREFIX + "slices_total", "Slices in the run", registry=registry)
        self.inputs = Gauge(PREFIX + "inputs_total", "Inputs in the run", registry=registry)

    def record_slice(self, outcomes: Mapping[str, int], reasons: Mapping[str, int], faces: int) -> None:
        """Add one finished slice's counts."""
        for outcome, n in outcomes.items():
            self.images.labels(outcome=outcome).inc(n)
        for reason, n in reasons.items():
            self.skipped.labels(reason=reason).inc(n)
        self.faces.inc(faces)
        self.slices_done.inc()

    _cache: "weakref.WeakKeyDictionary[CollectorRegistry, PrepareMetrics]" = weakref.WeakKeyDictionary()
    _lock = threading.Lock()

    @classmethod
    def for_registry(cls, registry: Optional[CollectorRegistry] = None) -> "PrepareMetrics":
        """The metric set of ``registry`` (default: the shared one), created on first use."""
        reg = registry or get_registry()
        with cls._lock:
            if reg not in cls._cache:
                cls._cache[reg] = cls(reg)
            return cls._cache[reg]
