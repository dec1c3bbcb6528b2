"""Prometheus metrics: a loopback exporter and the metric sets of each stage."""
from distlm.telemetry.server import (ANY_PORT, DISABLED, MetricsPortInUse, get_registry, start_metrics_server,
                                     stop_metrics_server)

__all__ = ["ANY_PORT", "DISABLED", "MetricsPortInUse", "get_registry", "start_metrics_server",
           "stop_metrics_server"]
