"""The registry of embedding losses (``lm``, ``center``, ``island``)."""
from distlm.registry import Registry

LOSSES: Registry = Registry("loss")
