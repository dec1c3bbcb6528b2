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
from distlm.data.loading import NormStats
from distlm.models import create_model, with_memory_format
from distlm.train.checkpoint import AVERAGED_KEY, load_state, save_state
from distlm.train.data import MEMORY_FORMATS, loader_kind, make_loader, norm_from_arrays, read_memory, test_batches
from distlm.train.evaluate import evaluate, unwrap
from distlm.train.objective import Objective, uses_unlabelled
from distlm.train.optim import build_optimizer, build_scheduler
from distlm.train.parallel import wrap_model
from distlm.models.ema import EMAWeights
from distlm.telemetry.trainer import TrainerTelemetry

log = logging.getLogger("distlm.train")


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or inf; the last good checkpoint is kept."""


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
    if spec.scenario != "aus" or not spec.selflabel.formulas:
        return None
    from distlm.formulas import load_formulas

    return load_formulas(spec.selflabel.formulas, aus=list(spec.data.au_ids))


class Worker:
    """State of one training worker (also usable without Ray for tests)."""

    def __init__(self, spec, rank: int = 0, world: int = 1, device: Any = "cpu",
                 norm: Optional[NormStats] = None):
        self.spec, self.rank, self.world = spec, rank, world
        self.device = torch.device(device)
        self.formulas = build_formulas(spec)
        self.kind = loader_kind(spec)
        torch.manual_seed(spec.seed)  # identical initial weights on every rank
        self.model = with_memory_format(create_model(spec).to(self.device), spec.train.channels_last)
        self.with_unlabelled = uses_unlabelled(spec)
        self.memory = read_memory(spec, self.with_unlabelled) if self.kind == "memory" else None
        self.norm = norm or (norm_from_arrays(self.memory.labelled) if self.memory else NormStats.unit(spec.data.channels))
        aug, aug_u = spec.train.augment, spec.train.augment_unlabelled
        self.loader = make_loader(spec, rank, world, self.device, self.norm, self.memory,
                                  self.with_unlabelled, aug, aug_u, spec.selflabel.strong_augment)
        steps = self.loader.steps_per_epoch or spec.train.steps_per_epoch or 1
        self.total_steps = steps * spec.train.epochs
        self.objective = Objective(spec, num_aux_classes(spec, self.formulas), self.formulas,
                                   self.total_steps).to(self.device)
        self.optimizer = build_optimizer(self.model, spec)
        self.scheduler = build_scheduler(self.optimizer, spec)
        amp = bool(spec.train.amp and self.device.type == "cuda")
        self.teacher = (EMAWeights(self.model, spec.selflabel.teacher_momentum)
                        if spec.selflabel.teacher == "ema" and self.with_unlabelled else None)
        wa = spec.train.weight_average
        self.averaged = None if wa is None else EMAWeights(self.model, wa)
        self.scaler = torch.amp.GradScaler("cuda", enabled=amp)
        self.amp = amp
        self.epoch, self.step = 0, 0
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
            "scaler": self.scaler.state_dict(),
            "epoch": self.epoch, "step": self.step,
            "spec": spec_to_dict(self.spec),
            "norm": {"mean": list(map(float, self.norm.mean)), "std": list(map(float, self.norm.std))},
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
        self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.history = state.get("history", self.history)

    # -- training ------------------------------------------------------------
    def train_step(self, batch) -> Dict[str, Any]:
        self.model.train()
        self.objective.train()
        strong = batch.x_u_s is not None and batch.num_unlabelled
        x_u = batch.x_u_s if strong else batch.x_u
        x = torch.cat([batch.x_l, x_u]) if batch.num_unlabelled else batch.x_l
        with torch.autocast(self.device.type, enabled=self.amp):
            out = self.model(x)
            sl_logits = self.selflabel_logits(batch, out.logits, strong)
        res = self.objective(out.embedding, out.logits, batch, self.step, sl_logits)
        if not torch.isfinite(res.loss):
            raise NonFiniteLossError(
                f"non-finite loss at epoch {self.epoch} step {self.step}: {res.terms}; "
                "training stopped, the last good checkpoint is kept (lower optim.lr, "
                "enable train.grad_clip, or check the data)")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(res.loss).backward()
        if self.spec.train.grad_clip:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.spec.train.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        for ema in (self.teacher, self.averaged):
            if ema is not None:
                ema.update(self.model)
        self.step += 1
        return {"terms": res.terms, "hist": res.selflabel_hist, "conf": res.selflabel_conf,
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

    def record(self, terms: Dict[str, float]) -> None:
        h = self.history
        h["step"].append(self.step)
        for k in ("loss", "loss_supervised", "loss_aux", "lambda2", "centroid_drift"):
            h[k].append(float(terms.get(k, math.nan)))

    def run_epoch(self, telemetry: TrainerTelemetry) -> float:
        seed_everything(self.spec.seed, self.rank, self.epoch)
        t_epoch = time.perf_counter()
        t_prev = time.perf_counter()
        last = {}
        for batch in self.loader.epoch(self.epoch):
            t_got = time.perf_counter()
            out = self.train_step(batch)
            last = out["terms"]
            self.record(last)
            now = time.perf_counter()
            images = (batch.num_labelled + batch.num_unlabelled) * self.world
            telemetry.step(step=self.step, epoch=self.epoch, images=images, seconds=now - t_prev,
                           wait=t_got - t_prev, terms=last, hist=out["hist"], conf=out["conf"],
                           kept=out["kept"])
            if self.rank == 0 and self.step % max(self.spec.train.log_every, 1) == 0:
                log.info("epoch %d step %d %s", self.epoch, self.step,
                         " ".join(f"{k}={v:.4g}" for k, v in last.items()))
            t_prev = time.perf_counter()
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


def _due(every: int, epoch: int, last_epoch: int) -> bool:
    return epoch == last_epoch or (every > 0 and epoch % every == 0)


def train_loop_per_worker(config: Dict[str, Any]) -> None:
    """Ray Train entry point; ``config = {"spec": dict, "resume": path|None, "norm": dict|None}``."""
    import ray.train
    import ray.train.torch

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    spec = spec_from_dict(config["spec"])
    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    norm = NormStats(**config["norm"]) if config.get("norm") else None
    w = Worker(spec, rank, world, ray.train.torch.get_device(), norm)
    w.model = wrap_model(w.model, w.device, world)
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as d:
            w.load(load_state(d))
        log.info("rank %d resumed at epoch %d step %d", rank, w.epoch, w.step)
    elif config.get("resume"):
        w.load(load_state(config["resume"]))
        log.info("rank %d resumed from %s at epoch %d", rank, config["resume"], w.epoch)
    telemetry = TrainerTelemetry(rank == 0 and spec.telemetry.metrics_port != 0, spec.data.class_names)
    if rank == 0 and spec.telemetry.metrics_port:
        from distlm.telemetry.server import start_metrics_server

        port = start_metrics_server(spec.telemetry.metrics_port, spec.telemetry.host)
        log.info("metrics on port %s", port)
    test_shard = None if w.memory is not None else _maybe_shard("test")
    last = spec.train.epochs
    while w.epoch < last:
        seconds = w.run_epoch(telemetry)
        metrics: Dict[str, Any] = {"epoch": w.epoch, "step": w.step, "epoch_seconds": seconds}
        for k in ("loss", "loss_supervised", "loss_aux", "lambda2"):
            if w.history[k]:
                metrics[k] = w.history[k][-1]
        if spec.data.test is not None and _due(spec.train.eval_every, w.epoch, last):
            ev = w.evaluate(test_shard)
            metrics.update({f"test_{k}": v for k, v in ev.items()})
            w.history["eval_step"].append(w.step)
            w.history["eval"].append({k: float(v) for k, v in ev.items()})
            telemetry.evaluation(ev)
        if _due(spec.run.checkpoint_every, w.epoch, last):
            with tempfile.TemporaryDirectory() as tmp:
                if rank == 0:
                    save_state(tmp, w.state())
                ckpt = ray.train.Checkpoint.from_directory(tmp) if rank == 0 else None
                ray.train.report(metrics, checkpoint=ckpt)
        else:
            ray.train.report(metrics)


def _maybe_shard(name: str):
    import ray.train

    try:
        return ray.train.get_dataset_shard(name)
    except (KeyError, ValueError, RuntimeError):
        return None
