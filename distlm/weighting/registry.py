"""The registry of loss-weighting rules (``fixed``, ``auto``, ``schedule``)."""
from distlm.registry import Registry

WEIGHTINGS: Registry = Registry("loss weighting")
