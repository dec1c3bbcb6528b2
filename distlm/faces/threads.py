"""Keep detectors on the CPUs they were given (TensorFlow grabs every core)."""
from __future__ import annotations

import logging
import os
from typing import Optional

log = logging.getLogger(__name__)


def assigned_cpus(default: Optional[int] = None) -> int:
    """CPUs Ray gave this worker, else ``default``, else ``os.cpu_count()``."""
    try:
        import ray

        if ray.is_initialized():
            cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
            if cpus:
                return max(1, int(round(cpus)))
    except Exception:  # outside a Ray worker: fall through
        pass
    return default or os.cpu_count() or 1


def pin_tensorflow_threads(num_threads: int) -> None:
    """Limit TensorFlow's intra- and inter-op pools to ``num_threads``.

    Must run before TensorFlow executes its first op; later calls only warn.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(num_threads)
        tf.config.threading.set_inter_op_parallelism_threads(num_threads)
    except RuntimeError as err:  # context already initialised in this process
        current = tf.config.threading.get_intra_op_parallelism_threads()
        if current != num_threads:
            log.warning("TensorFlow threads already fixed at %s (wanted %s): %s", current, num_threads, err)


def pin_opencv_threads(num_threads: int) -> None:
    import cv2

    cv2.setNumThreads(num_threads)
