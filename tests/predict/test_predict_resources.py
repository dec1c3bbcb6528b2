"""The predict pipeline's CPU plan: actors that cannot start are refused up front."""
import pytest

from distlm.predict.resources import ResourceError, model_actor_cpus, plan_cpus


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


def test_autoscaling_cluster_plans_for_its_declared_size(caplog):
    assert plan_cpus(2) == 2.0
    with caplog.at_level("WARNING", logger="distlm.predict.resources"):
        assert plan_cpus(2, declared=8) == 8.0
    assert "8 CPUs; the cluster has 2 now" in caplog.text
    assert model_actor_cpus(plan_cpus(2, declared=8), face_actors=4, cpus_per_actor=1, model_actors=1) == 1.0
    with pytest.raises(ResourceError, match="--cluster-cpus"):
        model_actor_cpus(plan_cpus(2), face_actors=4, cpus_per_actor=1, model_actors=1)
    with pytest.raises(ResourceError, match="must be > 0"):
        plan_cpus(2, declared=0)


def test_cli_passes_the_declared_size():
    from distlm.predict.__main__ import build_parser

    args = build_parser().parse_args(["ckpt", "img.jpg", "--out", "x.csv", "--cluster-cpus", "16"])
    assert args.cluster_cpus == 16.0
