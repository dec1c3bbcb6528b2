"""Starting Ray: join a running cluster, or start a single-node one bound to 127.0.0.1.

``ray.init()`` with no cluster to join starts a local Ray whose GCS, raylet and
object manager listen on every interface and advertise the machine's routable
address (e.g. ``192.0.2.2``): a laptop run is reachable from the network, and the
processes talk to each other through that address. Ray has no public switch for
this (``ray.init(_node_ip_address="127.0.0.1")`` is turned back into the routable
address); its own macOS/Windows default, loopback only, is the module constant
``ray._private.ray_constants.ENABLE_RAY_CLUSTER``. :func:`start_local` clears it for
the duration of ``ray.init`` in this process only (never in the environment, where
it would stop ``ray start --address`` from adding nodes), so every Ray process of
the instance binds and advertises ``127.0.0.1``. A single-node instance loses
nothing: other nodes join clusters made with ``ray start``, not this one.

A driver that joins such a cluster from another process (``--address 127.0.0.1:PORT``,
``RAY_ADDRESS``) must itself be on 127.0.0.1, or it waits for a raylet at its
routable address that never comes: :func:`join` clears the same switch for that
``ray.init``. A cluster addressed through 127.0.0.1 is taken to run on 127.0.0.1, as
:func:`start_local` and ``cluster/local.sh`` make them.

Measured on Ray 2.60, 2-core VM (``benchmarks/bench_ray_local.py``, docs/benchmarks.md):
a plain local instance has GCS at ``192.0.2.2`` and listens on ``0.0.0.0``, ``::``,
``192.0.2.2`` and ``127.0.0.1``; :func:`start_local`'s has GCS at ``127.0.0.1`` and
listens on 127.0.0.1 only (also checked on a real instance by
``tests/train/test_train_ray.py``). A second process joins the latter in 1.7 s through
:func:`join`; with a plain ``ray.init(address=...)`` it had not joined after 60 s.
"""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Any, Callable, Iterator, Optional, TypeVar

log = logging.getLogger("distlm.ray")
T = TypeVar("T")


@contextlib.contextmanager
def _loopback_node() -> Iterator[None]:
    from ray._private import ray_constants

    if not hasattr(ray_constants, "ENABLE_RAY_CLUSTER"):  # a Ray that moved the switch
        log.warning("ray: cannot bind the local instance to 127.0.0.1 with this Ray version")
        yield
        return
    saved = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved


def is_loopback(address: Optional[str]) -> bool:
    """Whether a Ray address (``host:port``, ``ray://host:port``) names this machine's
    loopback interface."""
    if not address or address in ("auto", "local"):
        return False
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")


def _auto_address() -> Optional[str]:
    """The cluster ``ray.init(address="auto")`` would join: ``RAY_ADDRESS``, else the
    one recorded by ``ray start`` on this machine (None if neither)."""
    env = os.environ.get("RAY_ADDRESS")
    if env and env != "auto":
        return env
    try:
        from ray._private.utils import read_ray_address

        return read_ray_address()
    except Exception:  # noqa: BLE001 - a Ray without the helper: no loopback special case
        return None


def join(address: str) -> Any:
    """``ray.init(address=address)``; a cluster on 127.0.0.1 is joined as 127.0.0.1.

    A driver works out its own node address before it connects; left to Ray, that is
    the machine's routable address, which no node of a loopback cluster has, and the
    driver waits for a matching raylet until it times out (a test's subprocess: 300 s).
    """
    import ray

    target = _auto_address() if address == "auto" else address
    if is_loopback(target):
        with _loopback_node():
            return ray.init(address=address)
    return ray.init(address=address)


_STARTED_HERE = False


RAY_TESTED = (2, 60)  # the minor release the code is tested with (pyproject pins it)


def check_ray_version(version: Optional[str] = None) -> None:
    """Raise :class:`UserError` when the installed Ray is older than the tested minor
    release (its Train and Data APIs differ); a newer one is logged, not refused."""
    from distlm.errors import UserError

    if version is None:
        import ray

        version = ray.__version__
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    want = ".".join(map(str, RAY_TESTED))
    if parts < RAY_TESTED:
        raise UserError(f"Ray {version} is installed; distlm needs Ray {want}.x "
                        f"(pip install 'ray[default,train,data]=={want}.*')")
    if parts[:2] != RAY_TESTED:
        log.warning("Ray %s is newer than the tested %s.x; if a Ray API fails, install ray==%s.*", version, want, want)


def start_local(**kwargs: Any) -> Any:
    """``ray.init(address="local", **kwargs)`` with every Ray process on 127.0.0.1."""
    import ray

    check_ray_version(ray.__version__)

    global _STARTED_HERE
    with _loopback_node():
        context = ray.init(address="local", **kwargs)
    _STARTED_HERE = True
    return context


def started_here() -> bool:
    """Whether this process started the Ray instance it uses (a one-machine run, not a
    cluster whose autoscaler could still add nodes)."""
    return _STARTED_HERE


def connect_or_start(address: Optional[str] = None, **local: Any) -> Any:
    """Join Ray at ``address`` (:func:`join`); None: a running cluster (``RAY_ADDRESS``,
    or one made with ``ray start`` on this machine) if there is one, else
    :func:`start_local` with ``local`` (``num_cpus``, ...); ``"local"``: always
    :func:`start_local`."""
    check_ray_version()
    if address == "local":
        return start_local(**local)
    if address:
        return join(address)
    try:
        context = join("auto")
        log.info("ray: joined the running cluster")
        return context
    except (ConnectionError, RuntimeError):
        log.info("ray: no running cluster; starting a local one on 127.0.0.1")
        return start_local(**local)


@contextlib.contextmanager
def ray_session(address: Optional[str] = None, num_cpus: Optional[int] = None) -> Iterator[None]:
    """Use the running Ray, or connect/start one (and shut down what we started).

    ``address``: None tries ``ray.init(address="auto")`` (a cluster started with
    ``ray start`` or ``RAY_ADDRESS``) and falls back to a new local instance on
    127.0.0.1 (:mod:`distlm.ray_local`);
    ``"local"`` always starts a new local instance; anything else is passed on.
    """
    import ray

    if ray.is_initialized():
        yield
        return
    connect_or_start(address, num_cpus=num_cpus, include_dashboard=False)
    try:
        yield
    finally:
        ray.shutdown()


def run_task(fn: Callable[..., T], *args: Any, **options: Any) -> T:
    """``fn(*args)`` as one Ray task (``options``: ``num_cpus``, ``max_retries``...),
    waited for; its own exception re-raised as itself (:func:`unwrap_task_error`)."""
    import ray

    with unwrap_task_error():
        return ray.get(ray.remote(**options)(fn).remote(*args))


@contextlib.contextmanager
def unwrap_task_error() -> Iterator[None]:
    """Re-raise a Ray task's own exception (a ``UserError``, ``ValueError``...) as
    itself, so that the command line prints its one-line message rather than the
    remote traceback Ray wraps it in."""
    import ray.exceptions

    try:
        yield
    except ray.exceptions.RayTaskError as err:
        cause = getattr(err, "cause", None)
        if isinstance(cause, Exception) and not isinstance(cause, ray.exceptions.RayError):
            raise cause from None
        raise
