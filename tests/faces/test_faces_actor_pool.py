"""add_face_crops' actors argument -> ray.data.ActorPoolStrategy arguments (no Ray started)."""
from __future__ import annotations

import pytest

import distlm.faces.actor_pool as actor_pool
from distlm.faces.actor_pool import pool_strategy


@pytest.mark.parametrize("actors,cpus_per_actor,cpus,expected", [
    (3, 1, None, {"size": 3}),
    ((1, 4), 2, None, {"min_size": 1, "max_size": 4}),
    ((1, None), 2, 16, {"min_size": 1, "max_size": 8}),
    ((1, None), 3, 16, {"min_size": 1, "max_size": 5}),
    ((4, None), 4, 8, {"min_size": 4, "max_size": 4}),  # never below min
    ((2, None), 0.5, 3, {"min_size": 2, "max_size": 6}),
])
def test_mapping(actors, cpus_per_actor, cpus, expected):
    assert pool_strategy(actors, cpus_per_actor, cpus=cpus) == expected


def test_max_none_asks_the_cluster_only_then(monkeypatch):
    calls = []
    monkeypatch.setattr(actor_pool, "cluster_cpus", lambda: calls.append(1) or 12.0)
    assert pool_strategy((2, None), 4) == {"min_size": 2, "max_size": 3}
    assert pool_strategy((2, 5), 4) == {"min_size": 2, "max_size": 5} and len(calls) == 1


@pytest.mark.parametrize("actors,cpus_per_actor,match", [
    (0, 1, "actors must be >= 1"), ((3, 2), 1, "max must be"), ((0, 2), 1, "min must be"),
    ((1, 2, 3), 1, r"\(min, max\)"), (2, 0, "cpus_per_actor"),
])
def test_bad_values_named(actors, cpus_per_actor, match):
    with pytest.raises(ValueError, match=match):
        pool_strategy(actors, cpus_per_actor, cpus=8)
    with pytest.raises(TypeError, match="actors must be an int"):
        pool_strategy("2", 1, cpus=8)
