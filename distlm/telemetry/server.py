"""A Prometheus ``/metrics`` endpoint, on loopback unless asked otherwise.

Port values (``telemetry.metrics_port`` in job specs uses the same convention):

* ``0`` or ``None`` (:data:`DISABLED`): no server; :func:`start_metrics_server` returns None.
* ``-1`` (:data:`ANY_PORT`): the OS picks a free port; the chosen one is returned.
* any other value: that port; :class:`MetricsPortInUse` (one line naming the port and
  the setting to change) when something else holds it.

All distlm metrics live in one process-wide ``CollectorRegistry``
(:func:`get_registry`), so stages register into it and one endpoint serves them all.

Example::

    port = start_metrics_server(ANY_PORT)        # 127.0.0.1:<port>/metrics
    ...
    stop_metrics_server(port)
"""
from __future__ import annotations

import errno
import signal
import threading
from typing import TYPE_CHECKING, Dict, Optional

from distlm.errors import UserError

if TYPE_CHECKING:  # prometheus_client is imported when a metric is made or served
    from prometheus_client import CollectorRegistry

DISABLED = 0
ANY_PORT = -1

_LOCK = threading.Lock()
_REGISTRY: Optional[CollectorRegistry] = None
_SERVERS: Dict[int, object] = {}


class MetricsPortInUse(UserError):
    """The exporter's fixed port is taken (another job on this host, most often)."""


def get_registry() -> CollectorRegistry:
    """The process-wide registry every distlm metric set registers into."""
    from prometheus_client import CollectorRegistry

    global _REGISTRY
    with _LOCK:
        if _REGISTRY is None:
            _REGISTRY = CollectorRegistry(auto_describe=True)
        return _REGISTRY


def start_metrics_server(
    port: Optional[int], host: str = "127.0.0.1", registry: Optional[CollectorRegistry] = None,
    setting: str = "telemetry.metrics_port",
) -> Optional[int]:
    """Serve ``registry`` (default :func:`get_registry`) at ``http://host:port/metrics``.

    Args:
        port: see the module docstring (``0``/None disabled, ``-1`` any free port).
        host: interface to bind; loopback by default (expose deliberately).
        registry: what to serve.
        setting: the user-facing name of ``port`` (job-spec key or CLI flag), named
            in the error when the port is taken.

    Returns:
        The bound port, or None when disabled.

    Raises:
        MetricsPortInUse: a fixed ``port`` is held by another process.
    """
    if port is None or port == DISABLED:
        return None
    if port < ANY_PORT or port > 65535:
        raise ValueError(f"{setting} must be 0 (disabled), -1 (any) or 1..65535, got {port}")
    from prometheus_client import start_http_server

    try:
        server, _thread = start_http_server(0 if port == ANY_PORT else port, addr=host,
                                           registry=registry or get_registry())
    except OSError as err:
        if err.errno != errno.EADDRINUSE:
            raise
        raise MetricsPortInUse(
            f"{setting}={port}: port {port} on {host} is already in use (another job on this host?); "
            f"set {setting}=-1 for any free port, or 0 to turn the exporter off") from None
    bound = int(server.server_address[1])
    with _LOCK:
        _SERVERS[bound] = server
    return bound


def stop_metrics_server(port: Optional[int]) -> None:
    """Shut down a server started by :func:`start_metrics_server` (no-op for None)."""
    if port is None:
        return
    with _LOCK:
        server = _SERVERS.pop(port, None)
    if server is not None:
        server.shutdown()  # type: ignore[attr-defined]
        server.server_close()  # type: ignore[attr-defined]


def linger(seconds: float) -> None:
    """Block up to ``seconds`` so that a scraper collects a short run's final values.

    SIGTERM or SIGINT ends the wait early and normally (the caller goes on to stop its
    server and exit 0). Signals can only be caught in the main thread; elsewhere the
    wait is plain.
    """
    done = threading.Event()
    handled = (signal.SIGTERM, signal.SIGINT)
    main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, lambda *_: done.set()) for s in handled} if main else {}
    try:
        done.wait(seconds)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
