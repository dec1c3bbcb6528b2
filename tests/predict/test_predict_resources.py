"""The predict pipeline's CPU plan: actors that cannot start are refused up front."""
import pytest

from distlm.predict.resources import ResourceError, model_actor_cpus


def test_everything_fits_keeps_one_cpu_per_model_actor():
    assert model_actor_cpus(4, face_actors=2, cpus_per_actor=1, model_actors=1) == 1.0


def test_two_face_actors_on_two_cores_let_the_model_share():
    assert model_actor_cpus(2, face_actors=2, cpus_per_actor=1, model_actors=1) == 0.0
    assert model_actor_cpus(3, face_actors=2, cpus_per_actor=1, model_actors=2) == 0.5


def test_gpu_model_actors_reserve_no_cpu():
    assert model_actor_cpus(2, face_actors=2, cpus_per_actor=1, model_actors=1, on_gpu=True) == 0.0


def test_explicit_model_cpus_is_kept_or_refused():
    assert model_actor_cpus(4, 2, 1, 1, model_cpus=0.5) == 0.5
    with pytest.raises(ResourceError, match=r"--model-cpus"):
        model_actor_cpus(2, 2, 1, 1, model_cpus=0.5)


def test_too_many_face_actors_is_a_clear_error():
    with pytest.raises(ResourceError, match=r"3 face actors x 1 CPU = 3 CPUs, but the Ray cluster has 2"):
        model_actor_cpus(2, face_actors=3, cpus_per_actor=1, model_actors=1)
