"""Start a single-node Ray on loopback, or connect to a running cluster.

``ray.init(address="local")`` does not keep a local instance on loopback: it asks
the OS which interface reaches the outside (``node_ip_address_from_perspective``)
and registers the node, its GCS and raylet under that address, even when
``_node_ip_address="127.0.0.1"`` is passed (Ray rewrites loopback through
``resolve_ip_for_localhost``). A laptop run, the demo and the tests then talk to
themselves over a routable interface. The one switch Ray has for "this node is
alone, use loopback" is the constant behind ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER``;
:func:`init_local` sets it, for this process and the Ray processes it starts, only
for the duration of the start, so a later connection to a real cluster is
unaffected. (``ray start --node-ip-address 127.0.0.1`` keeps loopback on its own.)
"""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Any, Dict, Iterator, Optional

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextlib.contextmanager
def _single_node_addressing() -> Iterator[None]:
    """Make Ray resolve this node's address to loopback while it starts."""
    from ray._private import ray_constants

    before_const = ray_constants.ENABLE_RAY_CLUSTER
    before_env = os.environ.get(_SWITCH)
    ray_constants.ENABLE_RAY_CLUSTER = False
    os.environ[_SWITCH] = "0"
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = before_const
        if before_env is None:
            os.environ.pop(_SWITCH, None)
        else:
            os.environ[_SWITCH] = before_env


def init_local(**kwargs: Any) -> Any:
    """``ray.init(address="local", ...)`` with every Ray address on 127.0.0.1.

    ``kwargs`` go to ``ray.init`` (``num_cpus``, ``include_dashboard``, ...);
    ``address`` and ``_node_ip_address`` are set here. Returns what ``ray.init``
    returns.
    """
    import ray

    for key in ("address", "_node_ip_address"):
        if key in kwargs:
            raise TypeError(f"init_local() sets {key!r} itself")
    with _single_node_addressing():
        return ray.init(address="local", _node_ip_address=LOOPBACK, **kwargs)


def connect_or_start(address: Optional[str] = None, local: Optional[Dict[str, Any]] = None,
                     **common: Any) -> bool:
    """Connect to ``address`` (or ``RAY_ADDRESS``, or a cluster ``ray start`` began
    on this machine), else start a loopback single-node Ray.

    ``local``: ``ray.init`` arguments only for a local start (``num_cpus``,
    ``include_dashboard``); ``common`` go to ``ray.init`` either way
    (``log_to_driver``). ``address="local"`` always starts a new local instance.
    Returns True when a new local instance was started here (the caller then owns
    its shutdown).
    """
    import ray

    local = dict(local or {}, **common)
    if address == "local":
        init_local(**local)
        return True
    if address:
        ray.init(address=address, **common)
        return False
    try:
        ray.init(address="auto", **common)
        log.info("connected to the running Ray cluster")
        return False
    except (ConnectionError, RuntimeError):
        init_local(**local)
        return True
