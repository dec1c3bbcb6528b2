"""The TensorBoard sink: rank 0's metrics as scalars in event files (``telemetry.tensorboard``).

Tags are the Prometheus names with labels as path parts (``distlm_train_loss/loss``,
``distlm_train_eval/acc``; ``distlm.telemetry.scalars``), at the trainer's step. Needs
the ``tensorboard`` package (``torch.utils.tensorboard.SummaryWriter``), imported only
when the key is set. ``tensorboard --logdir <dir>`` shows them.
"""
from __future__ import annotations

import os
from typing import Mapping, Sequence

from distlm.telemetry.scalars import ScalarSink
from distlm.telemetry.sink import SINKS, missing_package


@SINKS.register("tensorboard")
class TensorBoardSink(ScalarSink):
    """Writes each window's and evaluation's scalars with ``SummaryWriter.add_scalar``."""

    def __init__(self, log_dir: str, class_names: Sequence[str] = ()) -> None:
        super().__init__(class_names)
        self.check(None)
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir = os.path.abspath(log_dir)
        self.writer = SummaryWriter(log_dir=self.log_dir)

    @classmethod
    def wanted(cls, spec) -> bool:
        return spec.telemetry.tensorboard is not None

    @classmethod
    def check(cls, spec) -> None:
        err = missing_package("tensorboard", "tensorboard", "telemetry.tensorboard")
        if err is not None:
            raise err

    @classmethod
    def from_spec(cls, spec) -> "TensorBoardSink":
        return cls(spec.telemetry.tensorboard, spec.data.class_names)

    def write(self, step: int, scalars: Mapping[str, float]) -> None:
        for name, value in scalars.items():
            self.writer.add_scalar(name, value, global_step=step)

    def evaluation(self, metrics: Mapping[str, float], step: int) -> None:
        super().evaluation(metrics, step)
        self.writer.flush()  # evaluations are rare and worth seeing at once

    def close(self, failed: bool = False) -> None:
        self.writer.close()  # flushes
