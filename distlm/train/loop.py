"""``train_loop_per_worker``: the thin distributed shell around one training step.

Builds model, data shard, objective and optimiser from the job spec; restores
from the latest checkpoint (Ray Train's, or ``--resume``); trains; evaluates;
reports metrics with a checkpoint through ``ray.train.report``. The loss and the
centroid synchronisation are plain ``torch.distributed`` code underneath.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import tempfile
import time
from typing import Any, Dict, Optional

import torch

from distlm.config import spec_from_dict, spec_to_dict
from distlm.data.loading import NormStats, split_batch_size
from distlm.models import create_model, with_memory_format
from distlm.train.budget import resolve_budget, write_budget
from distlm.checkpoint.state import AVERAGED_KEY, load_state, norm_dict, save_state
from distlm.data.sources import MEMORY_FORMATS, loader_kind, make_loader, norm_from_arrays, read_memory, test_batches
from distlm.train.evaluate import evaluate, unwrap
from distlm.train.objective import Objective, uses_unlabelled
from distlm.train.optim import build_optimizer, build_scheduler
from distlm.train.epochs import train_epochs
from distlm.train.parallel import wrap_model
from distlm.train.progress import TrainProgress
from distlm.train.step_metrics import StepMetrics
from distlm.models.ema import EMAWeights
from distlm.telemetry.trainer import TrainerTelemetry

log = logging.getLogger("distlm.train")


class NonFiniteLossError(RuntimeError):
    """The loss (or a gradient) became NaN or inf on some worker; every worker stops at
    the same step, and the last good checkpoint is kept."""


def gpu_default(value: Optional[bool], device: torch.device) -> bool:
    """A ``train.*`` speed setting: as given, or (None) on for CUDA and off elsewhere, so
    CPU results do not move."""
    return device.type == "cuda" if value is None else bool(value)


def in_layout(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """``x (B, C, H, W)`` with exactly the strides of the model's memory format.

    ``contiguous()`` accepts NHWC strides on a 1-channel batch (both layouts count as
    contiguous when C = 1), and a crop or a flip may leave them: convolutions then give
    weight gradients in other strides than DDP's buckets, which it copies on every step.
    A copy here, only when the strides differ, gives the model one layout.
    """
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    n, c, h, w = x.shape
    want = (h * w * c, 1, w * c, c) if channels_last else (c * h * w, h * w, w, 1)
    if x.stride() == want:
        return x
    out = torch.empty(x.shape, dtype=x.dtype, device=x.device, memory_format=fmt)
    return out.copy_(x)


@torch.no_grad()
def grads_finite(params) -> torch.Tensor:
    """0-dim bool on the device: every gradient is finite (no host read)."""
    flags = [torch.isfinite(p.grad).all() for p in params if p.grad is not None]
    return torch.stack(flags).all() if flags else torch.ones((), dtype=torch.bool)


def seed_everything(seed: int, rank: int, epoch: int) -> None:
    """Per-(seed, rank, epoch) RNG state, so a resumed epoch replays exactly."""
    torch.manual_seed((seed * 1_000_003 + rank * 10_007 + epoch) % (2**63))


def num_aux_classes(spec, formulas) -> int:
    return len(formulas.emotions) if formulas is not None else spec.num_outputs


def preprocess_settings(spec) -> Dict[str, Any]:
    """How the training crops were made, for ``distlm.Predictor``: the crop options
    ``distlm.prepare`` recorded beside Parquet crops (``_prepare.json``), else
    ``detector: none`` for already-cropped in-memory data (Fashion-MNIST), else the
    :class:`~distlm.faces.CropOptions` defaults at the job's image size."""
    from distlm.faces import CropOptions

    src = spec.data.labelled
    crop: Dict[str, Any] = CropOptions(size=spec.data.image_size).to_dict()
    origin = "default"
    if src.format in MEMORY_FORMATS:
        crop["detector"], origin = "none", src.format
    elif src.format == "parquet":
        try:
            from distlm.data.fs import read_text

            raw = json.loads(read_text(src.path.rstrip("/") + "/_prepare.json", dataclasses.asdict(spec.data.storage)))
            crop.update(raw["options"]["crop"])
            origin = "_prepare.json"
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("%s/_prepare.json unreadable (%s): checkpoint gets default crop settings", src.path, err)
    return {**crop, "image_size": spec.data.image_size, "channels": spec.data.channels, "origin": origin}


def build_formulas(spec):
    """The job's pseudo-emotion formulas (aus scenario with a formula set), else None."""
    if spec.scenario != "aus" or not spec.selflabel.formulas:
        return None
    from distlm.formulas import job_formulas

    return job_formulas(spec)


class Worker:
    """State of one training worker (also usable without Ray for tests)."""

    def __init__(self, spec, rank: int = 0, world: int = 1, device: Any = "cpu",
                 norm: Optional[NormStats] = None, kind: Optional[str] = None,
                 labelled_rows: Optional[int] = None):
        self.spec, self.rank, self.world = spec, rank, world
        self.device = torch.device(device)
        self.formulas = build_formulas(spec)
        self.kind = kind or loader_kind(spec)  # "memory" reads Parquet crops into memory too (torchrun)
        torch.manual_seed(spec.seed)  # identical initial weights on every rank
        self.channels_last = gpu_default(spec.train.channels_last, self.device)
        self.model = with_memory_format(create_model(spec).to(self.device), self.channels_last)
        if spec.model.compile:
            self.model.compile()  # in place: parameters and state_dict keys are the module's own
        self.with_unlabelled = uses_unlabelled(spec)
        self.memory = read_memory(spec, self.with_unlabelled) if self.kind == "memory" else None
        self.norm = norm or (norm_from_arrays(self.memory.labelled) if self.memory else NormStats.unit(spec.data.channels))
        aug, aug_u = spec.train.augment, spec.train.augment_unlabelled
        if self.memory is not None:
            labelled_rows = len(self.memory.labelled)
        ratio = spec.data.unlabelled_ratio if self.with_unlabelled else 0.0
        self.budget = None if labelled_rows is None else resolve_budget(
            spec.train.epochs, spec.train.steps_per_epoch, "labelled", labelled_rows,
            split_batch_size(spec.train.batch_size, ratio, world).global_l)
        self.loader = make_loader(spec, rank, world, self.device, self.norm, self.memory,
                                  self.with_unlabelled, aug, aug_u, spec.selflabel.strong_augment,
                                  self.budget.steps_per_epoch if self.budget else None)
        steps = self.loader.steps_per_epoch or 1
        self.total_steps = steps * spec.train.epochs
        self.objective = Objective(spec, num_aux_classes(spec, self.formulas), self.formulas,
                                   self.total_steps).to(self.device)
        self.optimizer = build_optimizer(self.model, spec)
        self.scheduler = build_scheduler(self.optimizer, spec)
        # bf16 autocast on CUDA: the LM loss, the normalisation and the centroid sums are
        # computed in float32 all the same (distlm.precision); bf16 needs no loss scaling
        self.amp = gpu_default(spec.train.amp, self.device) and self.device.type == "cuda"
        self.teacher = (EMAWeights(self.model, spec.selflabel.teacher_momentum)
                        if spec.selflabel.teacher == "ema" and self.with_unlabelled else None)
        wa = spec.train.weight_average
        self.averaged = None if wa is None else EMAWeights(self.model, wa)
        self.epoch, self.step = 0, 0
        self.metrics = StepMetrics(spec.telemetry.log_every, spec.train.log_every)
        self.window_images = 0
        self.progress: Optional[TrainProgress] = None
        self.write_progress = False  # progress.json beside the checkpoints (the Ray and torchrun entry points)
        self.history: Dict[str, list] = {"step": [], "loss": [], "loss_supervised": [], "loss_aux": [],
                                         "lambda2": [], "centroid_drift": [], "eval_step": [], "eval": []}

    # -- state ---------------------------------------------------------------
    def state(self) -> Dict[str, Any]:
        return {
            "model": unwrap(self.model).state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "objective": self.objective.state_dict(),
            "teacher": None if self.teacher is None else self.teacher.state_dict(),
            **({} if self.averaged is None else {AVERAGED_KEY: self.averaged.model.state_dict()}),
            "epoch": self.epoch, "step": self.step,
            "spec": spec_to_dict(self.spec),
            "norm": norm_dict(self.norm),
            "history": self.history,
            "preprocess": preprocess_settings(self.spec),
            **({"formulas": {"emotions": self.formulas.emotions, "au_ids": self.formulas.au_ids,
                             "matrix": self.formulas.matrix.detach().cpu().tolist()}}
               if self.formulas is not None else {}),
        }

    def load(self, state: Dict[str, Any]) -> None:
        unwrap(self.model).load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.objective.load_state_dict(state["objective"])
        if self.teacher is not None and state.get("teacher") is not None:
            self.teacher.load_state_dict(state["teacher"])
        if self.averaged is not None:
            self.averaged.model.load_state_dict(state.get(AVERAGED_KEY, state["model"]))
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.history = state.get("history", self.history)

    # -- training ------------------------------------------------------------
    def train_step(self, batch) -> Dict[str, Any]:
        """One optimiser step; returns this step's values, on the device (nothing is read).

        A non-finite loss on any worker reaches every worker through the gradient
        all-reduce the step does anyway: the loss carries ``poison · Σθ₀`` (``poison``
        = 0 when the local loss is finite, NaN when not), which changes nothing when
        finite and makes every worker's averaged gradients NaN when not. Each worker
        then records the same ``finite`` flag, read with the metrics.
        """
        self.model.train()
        self.objective.train()
        strong = batch.x_u_s is not None and batch.num_unlabelled
        x_u = batch.x_u_s if strong else batch.x_u
        x = torch.cat([batch.x_l, x_u]) if batch.num_unlabelled else batch.x_l
        x = in_layout(x, self.channels_last)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            out = self.model(x)
            sl_logits = self.selflabel_logits(batch, out.logits, strong)
        res = self.objective(out.embedding, out.logits, batch, self.step, sl_logits)
        anchor = next(p for p in self.model.parameters() if p.requires_grad)
        poison = torch.where(torch.isfinite(res.loss.detach()), 0.0, math.nan).to(res.loss.dtype)
        self.optimizer.zero_grad(set_to_none=True)
        (res.loss + poison * anchor.sum()).backward()
        params = [p for p in self.model.parameters() if p.grad is not None]
        if self.spec.train.grad_clip:
            finite = torch.isfinite(torch.nn.utils.clip_grad_norm_(params, self.spec.train.grad_clip))
        else:
            finite = grads_finite(params)
        self.optimizer.step()
        for ema in (self.teacher, self.averaged):
            if ema is not None:
                ema.update(self.model)
        self.step += 1
        return {"terms": res.terms, "finite": finite, "hist": res.selflabel_hist, "conf": res.selflabel_conf,
                "kept": res.selflabel_kept}

    @torch.no_grad()
    def selflabel_logits(self, batch, logits: torch.Tensor, strong: bool) -> Optional[torch.Tensor]:
        """Outputs that assign classes: the EMA teacher's, or the network's on the
        weak view when the losses see the strong one; ``None``: the step's own.

        Only the unlabelled rows are run again (the labelled rows keep the step's
        own logits), in eval mode: BatchNorm uses its running statistics and does
        not update them a second time per step, as the EMA teacher does."""
        if not batch.num_unlabelled or (self.teacher is None and not strong):
            return None
        if self.teacher is not None:
            weak_u = self.teacher(batch.x_u).logits
        else:
            net = unwrap(self.model)  # same weights, no graph, no DDP sync
            net.eval()
            try:
                weak_u = net(batch.x_u).logits
            finally:
                net.train()
        return torch.cat([logits[: batch.num_labelled].detach(), weak_u.to(logits.dtype)])

    def take_step(self, batch, wait: float = 0.0) -> None:
        """:meth:`train_step` and keep its values for the next :meth:`read_metrics`."""
        out = self.train_step(batch)
        self.metrics.add(self.step, out["terms"], out["finite"], out["conf"], out["kept"], out["hist"],
                         images=batch.num_labelled + batch.num_unlabelled, wait=wait)

    def record(self, rows) -> None:
        """Append read steps to the history (one entry per step)."""
        h = self.history
        for row in rows:
            h["step"].append(row["step"])
            for k in ("loss", "loss_supervised", "loss_aux", "lambda2", "centroid_drift"):
                h[k].append(float(row.get(k, math.nan)))

    def read_metrics(self, telemetry: TrainerTelemetry, seconds: float) -> Optional[Dict[str, float]]:
        """Read the steps since the last read (one host copy), stop every worker together
        on a non-finite step, record the history and feed telemetry; returns the last
        step's values."""
        window = self.metrics.read()
        if window is None:
            return None
        if window.first_bad_step is not None:
            raise self._non_finite(window)
        self.record(window.rows)
        self.window_images = window.images * self.world
        last = window.rows[-1]
        telemetry.window(step=self.step, epoch=self.epoch, images=window.images * self.world, seconds=seconds,
                         waits=window.waits, last=last, hist=window.hist)
        return last

    def _non_finite(self, window) -> NonFiniteLossError:
        """The error every worker raises, naming the step and the terms (one collective
        of per-term counts, on this failure path only)."""
        from distlm.distributed import all_reduce_sum

        step = window.first_bad_step
        row = next(r for r in window.rows if r["step"] == step)
        names = [k for k in row if k.startswith("loss") or k == "lambda2"]
        local = torch.tensor([0.0 if math.isfinite(row[k]) else 1.0 for k in names] + [1.0], device=self.device)
        (counts,) = all_reduce_sum((local,))
        *per_term, world = [int(n) for n in counts.tolist()]
        bad = [f"{k} (on {n} of {world} workers)" for k, n in zip(names, per_term) if n > 0]
        what = ("not finite: " + ", ".join(bad)) if bad else "the loss terms were finite but the gradients were not"
        return NonFiniteLossError(
            f"non-finite loss at epoch {self.epoch} step {step}: {what}; every worker stopped at this step and "
            "the last good checkpoint is kept (lower optim.lr, set train.grad_clip, or check the data)")

    def announce_budget(self) -> None:
        """Rank 0 logs the resolved step budget and stores it beside the checkpoints."""
        if self.rank == 0 and self.budget is not None:
            log.info("%s", self.budget.describe())
            write_budget(self.spec, self.budget)

    def run_epoch(self, telemetry: TrainerTelemetry) -> float:
        if self.progress is None and self.rank == 0:
            self.progress = TrainProgress(self.spec, self.total_steps, self.step, write=self.write_progress)
        seed_everything(self.spec.seed, self.rank, self.epoch)
        t_epoch = t_prev = t_window = time.perf_counter()
        for batch in self.loader.epoch(self.epoch):
            self.take_step(batch, wait=time.perf_counter() - t_prev)
            if self.metrics.due(self.step):
                seconds = time.perf_counter() - t_window
                last = self.read_metrics(telemetry, seconds)
                t_window = time.perf_counter()
                if self.progress is not None and last is not None:
                    self.progress.window(self.step, self.epoch, last, self.window_images, seconds,
                                         log_line=self.step % max(self.spec.train.log_every, 1) == 0)
            t_prev = time.perf_counter()
        seconds = time.perf_counter() - t_window
        last = self.read_metrics(telemetry, seconds)  # before any checkpoint of this epoch
        if self.progress is not None and last is not None:
            self.progress.window(self.step, self.epoch, last, self.window_images, seconds,
                                 log_line=self.step % max(self.spec.train.log_every, 1) == 0)
        self.objective.end_epoch()
        self.scheduler.step()
        self.epoch += 1
        return time.perf_counter() - t_epoch

    @property
    def eval_model(self) -> torch.nn.Module:
        """The network evaluated and used for inference: the weight average when
        ``train.weight_average`` is set, else the trained network."""
        return self.model if self.averaged is None else self.averaged.model

    def evaluate(self, shard=None, collect_embeddings: int = 0) -> Dict[str, Any]:
        return evaluate(self.eval_model, test_batches(self.memory, self.rank, self.world, shard=shard),
                        self.spec, self.norm, self.device, collect_embeddings)


def train_loop_per_worker(config: Dict[str, Any]) -> None:
    """Ray Train entry point; ``config = {"spec": dict, "resume": path|None, "norm": dict|None}``."""
    import ray.train
    import ray.train.torch

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    spec = spec_from_dict(config["spec"])
    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    norm = NormStats(**config["norm"]) if config.get("norm") else None
    w = Worker(spec, rank, world, ray.train.torch.get_device(), norm, labelled_rows=config.get("labelled_rows"))
    w.write_progress = True
    w.announce_budget()
    w.model = wrap_model(w.model, w.device, world)
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as d:
            w.load(load_state(d))
        log.info("rank %d resumed at epoch %d step %d", rank, w.epoch, w.step)
    elif config.get("resume"):
        w.load(load_state(config["resume"]))
        log.info("rank %d resumed from %s at epoch %d", rank, config["resume"], w.epoch)
    if rank == 0 and spec.telemetry.metrics_port:
        from distlm.telemetry.server import start_metrics_server

        port = start_metrics_server(spec.telemetry.metrics_port, spec.telemetry.host)
        log.info("metrics on port %s", port)
    telemetry = TrainerTelemetry.for_rank(spec, rank)  # rank 0's sinks, opened before the first step
    test_shard = None if w.memory is not None else _maybe_shard("test")

    def report(metrics: Dict[str, Any], checkpoint_due: bool) -> None:
        if not checkpoint_due:
            ray.train.report(metrics)
            return
        with tempfile.TemporaryDirectory() as tmp:
            if rank == 0:
                save_state(tmp, w.state())
            ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(tmp) if rank == 0 else None)

    failed = True
    try:
        failed = train_epochs(w, telemetry, lambda worker: worker.evaluate(test_shard), report) is not None
    finally:
        telemetry.close(failed=failed)  # flushed and closed however training ends


def _maybe_shard(name: str):
    import ray.train

    try:
        return ray.train.get_dataset_shard(name)
    except (KeyError, ValueError, RuntimeError):
        return None
