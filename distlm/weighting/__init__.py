"""Loss-weighting rules for ``L = λ1·L_S + λ2·L_M``: fixed, auto-balance, schedule."""
from distlm.weighting.registry import WEIGHTINGS
from distlm.weighting import rules as _rules  # noqa: F401  (explicit registration)
from distlm.weighting.rules import AutoBalance, FixedWeighting, LossWeighting, ScheduledWeighting


def create_weighting(name: str, **kwargs) -> LossWeighting:
    """Build a registered weighting rule (``fixed``, ``auto``, ``schedule``)."""
    return WEIGHTINGS.create(name, **kwargs)


def list_weightings() -> list:
    return WEIGHTINGS.list()


__all__ = ["WEIGHTINGS", "LossWeighting", "FixedWeighting", "AutoBalance",
           "ScheduledWeighting", "create_weighting", "list_weightings"]
