"""How many logical CPUs each actor of the predict pipeline reserves.

Face actors run the detector (the cost); CPU model actors run batched forward passes
and mostly wait for crops. An actor pool that does not fit the cluster never starts
(Ray Data waits for it forever), so the plan is checked before anything runs: against
the CPUs the cluster has now, or, on an autoscaling cluster, against the CPUs it may
grow to (``--cluster-cpus``).
"""
from __future__ import annotations

import logging
from typing import Optional

from distlm.errors import UserError

log = logging.getLogger(__name__)


class ResourceError(UserError):
    """The requested actors cannot all start on this cluster."""


def plan_cpus(now: float, declared: Optional[float] = None) -> float:
    """CPUs to plan the actors for: ``declared`` (an autoscaling cluster's maximum)
    when given, else what the cluster has ``now``."""
    if declared is None:
        return float(now)
    if declared <= 0:
        raise ResourceError(f"--cluster-cpus must be > 0, got {declared:g}")
    if declared > now:
        log.warning("planning for %g CPUs; the cluster has %g now: actors wait until the "
                    "autoscaler adds nodes", declared, now)
    return float(declared)


def model_actor_cpus(cluster_cpus: float, face_actors: int, cpus_per_actor: float, model_actors: int,
                     model_cpus: Optional[float] = None, on_gpu: bool = False) -> float:
    """Logical CPUs per model actor.

    ``model_cpus`` given: used as is (checked). Otherwise ``cpus_per_actor`` when
    everything fits, else what the face actors leave (possibly 0: the model actors
    then share the face actors' cores). GPU model actors reserve no CPU.

    Raises:
        ResourceError: the face actors alone, or with an explicit ``model_cpus``,
            need more CPUs than the cluster has; the message says what to change.
    """
    if on_gpu:
        return 0.0
    face = face_actors * cpus_per_actor
    if face > cluster_cpus + 1e-9:
        raise ResourceError(
            f"{face_actors} face actors x {cpus_per_actor:g} CPU = {face:g} CPUs, but the Ray cluster has "
            f"{cluster_cpus:g}: lower --face-actors or --cpus-per-actor, or add nodes (on an autoscaling "
            "cluster, --cluster-cpus N plans for the CPUs it can grow to)")
    if model_cpus is not None:
        need = face + model_actors * model_cpus
        if need > cluster_cpus + 1e-9:
            raise ResourceError(
                f"{face_actors} face actors x {cpus_per_actor:g} CPU + {model_actors} model actors x "
                f"{model_cpus:g} CPU = {need:g} CPUs, but the Ray cluster has {cluster_cpus:g}: "
                "lower --model-cpus (0 lets the model share the detector's cores)")
        return float(model_cpus)
    if face + model_actors * cpus_per_actor <= cluster_cpus + 1e-9:
        return float(cpus_per_actor)
    return max(0.0, (cluster_cpus - face) / model_actors)
