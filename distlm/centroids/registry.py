"""The registry of centroid strategies (``batch``, ``ema``, ``epoch``)."""
from distlm.registry import Registry

CENTROIDS: Registry = Registry("centroid strategy")
