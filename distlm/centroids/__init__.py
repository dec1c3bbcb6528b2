"""Centroid strategies, all synchronised across workers by sums and counts.

>>> from distlm.centroids import create_centroids
>>> c = create_centroids("ema", num_classes=7, momentum=0.9)
"""
from distlm.centroids.registry import CENTROIDS
from distlm.centroids.base import CentroidStrategy
from distlm.centroids.stats import class_sums
from distlm.centroids import batch as _batch, ema as _ema, epoch as _epoch  # noqa: F401  (explicit registration)
from distlm.centroids.batch import BatchCentroids
from distlm.centroids.ema import EMACentroids
from distlm.centroids.epoch import EpochCentroids


def create_centroids(name: str, **kwargs) -> CentroidStrategy:
    """Build a registered strategy by name (``batch``, ``ema``, ``epoch``)."""
    return CENTROIDS.create(name, **kwargs)


def list_centroids() -> list:
    return CENTROIDS.list()


__all__ = ["CENTROIDS", "CentroidStrategy", "BatchCentroids", "EMACentroids",
           "EpochCentroids", "class_sums", "create_centroids", "list_centroids"]
