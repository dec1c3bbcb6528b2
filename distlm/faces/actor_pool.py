"""The FaceCropper actor pool: a fixed size, or ``(min, max)`` for an autoscaling one."""
from __future__ import annotations

from typing import Dict, Optional, Tuple, Union

Actors = Union[int, Tuple[int, Optional[int]]]


def cluster_cpus() -> float:
    """CPUs of the connected Ray cluster (``ray.cluster_resources()["CPU"]``)."""
    import ray

    return float(ray.cluster_resources().get("CPU", 0.0))


def pool_strategy(actors: Actors, cpus_per_actor: float, cpus: Optional[float] = None) -> Dict[str, int]:
    """Keyword arguments of ``ray.data.ActorPoolStrategy`` for ``actors``.

    Args:
        actors: ``n`` (a fixed pool of ``n``) or ``(min, max)`` (autoscaling between
            them); ``max=None`` means as many as the cluster's CPUs hold:
            ``int(cpus // cpus_per_actor)``, at least ``min``.
        cpus_per_actor: CPUs each actor reserves (> 0).
        cpus: the cluster's CPU count; asked of Ray only when needed and not given.

    Returns:
        ``{"size": n}`` or ``{"min_size": lo, "max_size": hi}``.

    Example::

        pool_strategy((1, None), 2, cpus=16)  # {"min_size": 1, "max_size": 8}
    """
    if cpus_per_actor <= 0:
        raise ValueError(f"add_face_crops: cpus_per_actor must be > 0, got {cpus_per_actor}")
    if isinstance(actors, bool) or not isinstance(actors, (int, tuple, list)):
        raise TypeError(f"add_face_crops: actors must be an int or a (min, max) pair, got {actors!r}")
    if isinstance(actors, int):
        if actors < 1:
            raise ValueError(f"add_face_crops: actors must be >= 1, got {actors}")
        return {"size": actors}
    if len(actors) != 2:
        raise ValueError(f"add_face_crops: actors must be (min, max), got {actors!r}")
    lo, hi = actors
    if not isinstance(lo, int) or lo < 1:
        raise ValueError(f"add_face_crops: actors min must be an int >= 1, got {lo!r}")
    if hi is None:
        hi = max(lo, int((cluster_cpus() if cpus is None else cpus) // cpus_per_actor))
    if not isinstance(hi, int) or hi < lo:
        raise ValueError(f"add_face_crops: actors max must be an int >= min ({lo}) or None, got {hi!r}")
    return {"min_size": lo, "max_size": hi}
