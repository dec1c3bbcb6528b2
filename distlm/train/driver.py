"""The driver: connect to Ray, build the ``TorchTrainer`` from the job spec, run it.

Run on a cluster with ``ray job submit -- python -m distlm.train JOB.yaml`` (the
driver joins the cluster through ``RAY_ADDRESS``), or locally, where
a single-node Ray starts bound to 127.0.0.1 (``distlm.ray_local``). Re-running the same job (same
``run.name`` and ``run.storage_path``) resumes from its latest checkpoint: Ray
Train restores the run. ``--resume CHECKPOINT`` starts from a given checkpoint.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Dict, Optional

from distlm.config import save_job, spec_to_dict
from distlm.data.ray_datasets import ray_datasets
from distlm.data.sources import crops_norm, storage_options
from distlm.errors import UserError
from distlm.ray_local import connect_or_start
from distlm.train.loop import train_loop_per_worker
from distlm.train.run_folder import clear_stopped, run_name, storage_path

log = logging.getLogger("distlm.train")
SPEC_FILE = "job.yaml"


def storage_filesystem(spec):
    """A pyarrow S3 filesystem when an S3 endpoint is set (e.g. MinIO, moto): in the
    job's ``data.storage`` or, as for the readers, ``AWS_ENDPOINT_URL_S3`` /
    ``AWS_ENDPOINT_URL`` (region likewise from ``AWS_REGION`` / ``AWS_DEFAULT_REGION``)."""
    from distlm.data.fs import s3_setting

    p = spec.run.storage_path
    s = spec.data.storage
    given = {"endpoint_url": s.endpoint_url, "region": s.region}
    endpoint = s3_setting(given, "endpoint_url")
    if not p.startswith("s3://") or not endpoint:
        return None
    import pyarrow.fs as pafs

    return pafs.S3FileSystem(endpoint_override=endpoint, region=s3_setting(given, "region") or "us-east-1",
                             anonymous=s.anon, scheme="http" if endpoint.startswith("http:") else "https")


def build_trainer(spec, resume: Optional[str] = None):
    """The ``TorchTrainer`` for ``spec`` (nothing runs until ``.fit()``)."""
    import ray.train
    from ray.train.torch import TorchConfig, TorchTrainer

    from distlm.distributed import process_group_backend

    from distlm.train.loop import Worker  # noqa: F401  (import errors surface here, not in workers)
    from distlm.train.objective import uses_unlabelled

    with_unlabelled = uses_unlabelled(spec)
    s = spec.scaling
    resources = {"CPU": s.cpus_per_worker, **({"GPU": s.gpus_per_worker} if s.use_gpu else {}),
                 **s.resources_per_worker}
    scaling = ray.train.ScalingConfig(num_workers=s.num_workers, use_gpu=s.use_gpu,
                                      resources_per_worker=resources)
    r = spec.run
    fs = storage_filesystem(spec)
    path = storage_path(spec)
    if fs is not None:  # a pyarrow file system takes "bucket/prefix", not a URI
        path = path.split("://", 1)[1]
    ckpt_cfg = ray.train.CheckpointConfig(
        num_to_keep=r.keep,
        **({"checkpoint_score_attribute": r.keep_metric, "checkpoint_score_order": r.keep_order}
           if r.keep_metric else {}))
    run_config = ray.train.RunConfig(
        name=run_name(spec), storage_path=path, storage_filesystem=fs,
        checkpoint_config=ckpt_cfg, failure_config=ray.train.FailureConfig(max_failures=r.max_failures))
    from distlm.telemetry.sinks import with_absolute_paths

    config: Dict[str, Any] = {"spec": spec_to_dict(with_absolute_paths(spec)), "resume": resume or r.resume}
    datasets = ray_datasets(spec, with_unlabelled)
    data_config = None
    if datasets is not None:
        norm = crops_norm(spec)
        config["norm"] = {"mean": list(norm.mean), "std": list(norm.std), "count": norm.count}
        from distlm.data.sources import labelled_rows

        config["labelled_rows"] = labelled_rows(spec)  # the budget's epoch length, from one column
        # every side split across the workers: training sides equally, the test set
        # unequally (each row evaluated once; the counts are all-reduced)
        from distlm.data.ray_datasets import data_config as split_config

        data_config = split_config(spec)
    return TorchTrainer(train_loop_per_worker, train_loop_config=config, scaling_config=scaling,
                        run_config=run_config, datasets=datasets,
                        torch_config=TorchConfig(backend=process_group_backend(s.use_gpu)),
                        **({"dataset_config": data_config} if data_config else {}))


def save_resolved_spec(spec) -> str:
    """Write the resolved spec beside the run's checkpoints (local storage)."""
    base = storage_path(spec)
    if "://" in base:
        from distlm.config import dump_job
        from distlm.data.fs import write_text

        path = f"{base.rstrip('/')}/{run_name(spec)}/{SPEC_FILE}"
        write_text(path, dump_job(spec), storage_options(spec))
        return path
    path = os.path.join(base, run_name(spec), SPEC_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_job(spec, path)
    return path


class NoGPUError(UserError):
    """``scaling.use_gpu: true`` on a machine (a local Ray) that has no GPU."""


def check_gpus(spec) -> None:
    """Refuse ``scaling.use_gpu`` on a local Ray without GPUs, with the fix; on a cluster
    without GPUs now, only warn (its autoscaler may add GPU nodes)."""
    import ray

    from distlm.ray_local import started_here

    if not spec.scaling.use_gpu or ray.cluster_resources().get("GPU", 0) >= spec.scaling.gpus_per_worker:
        return
    if started_here():
        raise NoGPUError(
            f"job {spec.name!r} asks for GPUs (scaling.use_gpu=true) but this machine has none; "
            "set scaling.use_gpu=false to train on CPU, or submit it to a GPU cluster "
            "(ray job submit --address ... -- python -m distlm.train ...)")
    log.warning("the cluster has no GPU now: the job waits until its autoscaler adds GPU nodes")


def run(spec, resume: Optional[str] = None, address: Optional[str] = None):
    """Connect to (or start) Ray, train, and return the ``ray.train.Result``."""
    import ray

    if not ray.is_initialized():
        connect_or_start(address)
    check_gpus(spec)
    from distlm.train.crop_stage import crop_sources

    spec = crop_sources(spec)  # raw-image sources -> their crops in data.cache
    clear_stopped(spec)
    path = save_resolved_spec(spec)
    log.info("resolved spec saved to %s", path)
    import threading

    from distlm.train.progress import watch

    trainer = build_trainer(spec, resume)
    stop = threading.Event()
    bar = watch(spec, stop)  # a live bar when this driver runs on a terminal
    try:
        return trainer.fit()
    finally:
        stop.set()
        if bar is not None:
            bar.join(timeout=5)
