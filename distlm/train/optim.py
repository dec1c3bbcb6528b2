"""Optimisers and learning-rate schedules from the job spec (registries)."""
from __future__ import annotations

import math

import torch

from distlm.registry import Registry

OPTIMIZERS: Registry = Registry("optimizer")
SCHEDULERS: Registry = Registry("lr scheduler")


@OPTIMIZERS.register("adam")
def _adam(params, o):
    return torch.optim.Adam(params, lr=o.lr, betas=tuple(o.betas), weight_decay=o.weight_decay)


@OPTIMIZERS.register("adamw")
def _adamw(params, o):
    return torch.optim.AdamW(params, lr=o.lr, betas=tuple(o.betas), weight_decay=o.weight_decay)


@OPTIMIZERS.register("sgd")
def _sgd(params, o):
    return torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)


def _warmup(s, epoch: int) -> float:
    return (epoch + 1) / (s.warmup_epochs + 1) if epoch < s.warmup_epochs else 1.0


@SCHEDULERS.register("none")
def _none(s, epochs: int, base_lr: float):
    return lambda e: _warmup(s, e)


@SCHEDULERS.register("cosine")
def _cosine(s, epochs: int, base_lr: float):
    floor = s.min_lr / base_lr if base_lr else 0.0
    span = max(epochs - s.warmup_epochs, 1)

    def f(e: int) -> float:
        if e < s.warmup_epochs:
            return _warmup(s, e)
        t = min((e - s.warmup_epochs) / span, 1.0)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t))

    return f


@SCHEDULERS.register("step")
def _step(s, epochs: int, base_lr: float):
    return lambda e: _warmup(s, e) * s.gamma ** (max(e - s.warmup_epochs, 0) // s.step_size)


def build_optimizer(model: torch.nn.Module, spec) -> torch.optim.Optimizer:
    return OPTIMIZERS.get(spec.optim.name)(model.parameters(), spec.optim)


def build_scheduler(optimizer: torch.optim.Optimizer, spec) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-epoch ``LambdaLR`` (stepped at the end of each epoch)."""
    factor = SCHEDULERS.get(spec.scheduler.name)(spec.scheduler, spec.train.epochs, spec.optim.lr)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
