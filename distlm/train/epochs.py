"""The one training loop: epochs of a :class:`~distlm.train.loop.Worker` until
``train.epochs``, each followed by its metrics, an evaluation when one is due, and the
caller's end-of-epoch step (Ray Train's report and checkpoint, torchrun's checkpoint
folder, an in-process run's snapshot).

Ray Train (``train_loop_per_worker``), ``torchrun -m distlm.train.torchrun``, the demo
and the benchmarks' in-process runs all call :func:`train_epochs`; they differ only in
where the test batches come from and what happens at the end of an epoch.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional

from distlm.train.run_folder import write_stopped

log = logging.getLogger("distlm.train")
TERMS = ("loss", "loss_supervised", "loss_aux", "lambda2")
Evaluate = Callable[[Any], Optional[Dict[str, Any]]]
EndOfEpoch = Callable[[Dict[str, Any], bool], None]


def due(every: int, epoch: int, last_epoch: int) -> bool:
    """Whether something done every ``every`` epochs (0: only at the end) is due after ``epoch``."""
    return epoch == last_epoch or (every > 0 and epoch % every == 0)


def train_epochs(worker, telemetry, evaluate: Optional[Evaluate], end_of_epoch: EndOfEpoch):
    """Train ``worker`` to ``spec.train.epochs``; returns the error that stopped every
    worker (a non-finite loss, after rank 0 wrote ``stopped.json``) or None.

    After each epoch: ``metrics`` (epoch, step, seconds, the last loss terms); when
    ``data.test`` is set and ``train.eval_every`` makes it due, ``evaluate(worker)``
    (None: skip this one) is added as ``test_*`` and to the history; then
    ``end_of_epoch(metrics, checkpoint_due)`` with ``run.checkpoint_every``'s verdict.
    """
    from distlm.train.loop import NonFiniteLossError

    spec, last = worker.spec, worker.spec.train.epochs
    while worker.epoch < last:
        try:
            seconds = worker.run_epoch(telemetry)
        except NonFiniteLossError as err:
            # every worker gets here at the same step: report it and end normally, so that
            # Ray Train does not retry a deterministic failure as if a node were lost
            log.error("rank %d: %s", worker.rank, err)
            if worker.rank == 0:
                write_stopped(spec, str(err))
            return err
        metrics: Dict[str, Any] = {"epoch": worker.epoch, "step": worker.step, "epoch_seconds": seconds}
        metrics.update({k: worker.history[k][-1] for k in TERMS if worker.history[k]})
        if evaluate is not None and spec.data.test is not None and due(spec.train.eval_every, worker.epoch, last):
            ev = evaluate(worker)
            if ev is not None:
                numbers = {k: v for k, v in ev.items() if isinstance(v, (int, float))}
                metrics.update({f"test_{k}": v for k, v in numbers.items()})
                worker.history["eval_step"].append(worker.step)
                worker.history["eval"].append({k: float(v) for k, v in numbers.items()})
                telemetry.evaluation(ev, step=worker.step)
        end_of_epoch(metrics, due(spec.run.checkpoint_every, worker.epoch, last))
    return None
