"""The typed job spec: one dataclass per section, all with defaults.

A spec file is YAML whose keys mirror these dataclasses; `distlm.config.load_job`
reads it. Every field is documented in docs/jobs.md.

Fields that name a registry entry (a loss, a centroid strategy, a weighting rule, a
self-label policy, a head, an optimiser, a schedule) are typed with
`~distlm.config.choices.registered`: their valid values are whatever the registry
holds when the spec is loaded, never a copy of its names.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Literal, Optional, Tuple

from distlm.config.choices import registered
from distlm.config.schema_augment import (AugmentSpec, Augmentation, CropSpec, CutoutSpec, FlipSpec, JitterSpec,
                                          RandAugmentSpec)
from distlm.config.schema_data import DataSpec, SourceSpec, StorageSpec
from distlm.config.schema_telemetry import MlflowSpec, TelemetrySpec

Scenario = Literal["expressions", "aus"]
Head = registered("distlm.models", "HEADS")
Supervised = registered("distlm.train.supervised", "SUPERVISED")
# the embedding losses of the registry, plus the objectives that are not one:
# no auxiliary term, and cross-entropy on self-labels (distlm.train.objective)
Aux = registered("distlm.losses", "LOSSES", "none", "pseudo_label", "fixmatch", what="auxiliary loss")
Centroids = registered("distlm.centroids", "CENTROIDS")
Weighting = registered("distlm.weighting", "WEIGHTINGS")
ThresholdPolicy = registered("distlm.selflabel.policies", "THRESHOLDS")
Alignment = registered("distlm.selflabel.policies", "ALIGNMENTS")
Optimizer = registered("distlm.train.optim", "OPTIMIZERS")
LrSchedule = registered("distlm.train.optim", "SCHEDULERS")

__all__ = [
    "DataSpec", "SourceSpec", "StorageSpec", "ModelSpec", "ScheduleSpec", "WeightingSpec",
    "LossSpec", "SelfLabelSpec", "OptimSpec", "SchedulerSpec", "TrainSpec", "ScalingSpec",
    "RunSpec", "TelemetrySpec", "JobSpec", "AugmentSpec", "Augmentation", "CropSpec", "FlipSpec",
    "JitterSpec", "RandAugmentSpec", "CutoutSpec", "MlflowSpec",
]


@dataclass
class ModelSpec:
    """Backbone (registry name), embedding size, head and optional weights file."""

    name: str = "alexnet"                 # alexnet | small_cnn | torchvision:<arch>
    embedding_dim: Optional[int] = None   # None: the backbone's own width
    pretrained: Optional[str] = None      # state_dict file (local or s3://)
    head: Head = "softmax"
    options: Dict[str, Any] = field(default_factory=dict)  # backbone keyword arguments
    compile: bool = False                 # torch.compile the network (in place; state_dict keys unchanged)


@dataclass
class ScheduleSpec:
    """How the auxiliary weight decays over training in ``weighting.mode: schedule``."""

    kind: Literal["linear", "cosine"] = "linear"
    final: float = 0.0                    # lambda2 at the last step


@dataclass
class WeightingSpec:
    """``L = lambda1 * L_S + lambda2 * L_aux`` (eq. 4 / 7)."""

    mode: Weighting = "fixed"
    lambda1: float = 1.0
    lambda2: float = 1.0
    ratio: float = 0.8                    # auto: lambda1*L_S ~= ratio * lambda2*|L_aux|
    warmup_steps: int = 0                 # lambda2 ramps from 0 over these steps
    freeze_after: Optional[int] = None    # auto: hold lambda2 after this many steps (None: recompute forever)
    schedule: ScheduleSpec = field(default_factory=ScheduleSpec)


@dataclass
class LossSpec:
    """Supervised loss, auxiliary (embedding) loss and its centroid strategy."""

    supervised: Supervised = "ce"
    aux: Aux = "none"
    centroids: Centroids = "batch"        # lm only: where centroids come from
    membership: Literal["hard", "confidence", "labelled"] = "hard"  # lm: who builds the centroids, with what weight
    push: Literal["mean", "nearest"] = "mean"  # lm: push from the mean of the other classes (paper) or the nearest
    ema_momentum: float = 0.9             # centroids: ema
    center_alpha: float = 0.5             # center/island: centre update rate
    island_lambda: float = 10.0           # island: weight of the pairwise cosine term
    reduction: Literal["mean", "sum"] = "mean"
    consistency: Literal["none", "fixmatch"] = "none"  # + weight·CE(strong view, weak-view self-labels)
    consistency_weight: float = 1.0       # ramped in over weighting.warmup_steps like λ2
    weighting: WeightingSpec = field(default_factory=WeightingSpec)


@dataclass
class SelfLabelSpec:
    """Self-labelling of unlabelled samples (SSL / transfer)."""

    enabled: bool = False
    threshold: Optional[float] = None     # keep self-labels with confidence >= threshold
    threshold_policy: ThresholdPolicy = "fixed"  # flexmatch: class-adaptive (τ = threshold); freematch: self-adaptive (no threshold)
    alignment: Alignment = "none"  # distribution alignment of the scores
    teacher: Literal["none", "ema"] = "none"    # self-labels from an EMA teacher of the network
    teacher_momentum: float = 0.999
    strong_augment: Optional[Augmentation] = None  # set: self-labels from the weak view, losses on this
                                                   # strong view (a preset name or steps: schema_augment.py)
    formulas: Optional[str] = None        # aus: formula set name or YAML path
    drop_contempt: bool = True            # aus: drop the unilateral contempt formula


@dataclass
class OptimSpec:
    name: Optimizer = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    betas: Tuple[float, float] = (0.9, 0.999)   # adam, adamw
    momentum: float = 0.9                       # sgd


@dataclass
class SchedulerSpec:
    """Learning-rate schedule, stepped once per epoch."""

    name: LrSchedule = "none"
    warmup_epochs: int = 0                # linear warm-up before the schedule
    min_lr: float = 0.0                   # cosine: floor
    step_size: int = 30                   # step: epochs between decays
    gamma: float = 0.1                    # step: decay factor


@dataclass
class TrainSpec:
    epochs: int = 1
    augment: Augmentation = "none"          # labelled view: a preset name or steps (schema_augment.py)
    augment_unlabelled: Optional[Augmentation] = None  # None: same as augment
    steps_per_epoch: Optional[int] = None   # exact steps per epoch (the labelled side cycles); None: one pass
    batch_size: int = 128                   # global, labelled + unlabelled
    amp: Optional[bool] = None              # bf16 autocast; None: on with CUDA, off on CPU (the LM loss,
                                            # normalisation and centroid sums stay float32)
    channels_last: Optional[bool] = None    # NHWC weights/activations; None: on with CUDA, off on CPU
                                            # (true on CPU: 1.36x faster small-CNN step, oneDNN)
    grad_clip: Optional[float] = None       # max global grad norm
    weight_average: Optional[float] = None  # EMA momentum of the weights that are evaluated, saved for
                                            # predict/export (Polyak/EMA model); None: the trained weights
    eval_every: int = 1                     # epochs; 0 = only at the end
    log_every: int = 50                     # steps between log lines


@dataclass
class ScalingSpec:
    """Ray Train ``ScalingConfig``."""

    num_workers: int = 1
    use_gpu: bool = False
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 1.0            # used only with use_gpu
    resources_per_worker: Dict[str, float] = field(default_factory=dict)


@dataclass
class RunSpec:
    """Ray Train ``RunConfig`` / ``CheckpointConfig`` / ``FailureConfig``."""

    storage_path: str = "runs"              # local dir or s3://bucket/prefix
    name: Optional[str] = None              # None: the job's name
    checkpoint_every: int = 1               # epochs; 0 = only at the end
    keep: int = 3                           # checkpoints kept
    keep_metric: Optional[str] = None       # None: keep the latest; else the best by it
    keep_order: Literal["max", "min"] = "max"
    max_failures: int = 0
    resume: Optional[str] = None            # checkpoint path or null


@dataclass
class JobSpec:
    """A whole training job. ``extends:`` in a file is resolved before this is built."""

    name: str = "job"
    description: str = ""
    scenario: Scenario = "expressions"
    seed: int = 0
    data: DataSpec = field(default_factory=DataSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    loss: LossSpec = field(default_factory=LossSpec)
    selflabel: SelfLabelSpec = field(default_factory=SelfLabelSpec)
    optim: OptimSpec = field(default_factory=OptimSpec)
    scheduler: SchedulerSpec = field(default_factory=SchedulerSpec)
    train: TrainSpec = field(default_factory=TrainSpec)
    scaling: ScalingSpec = field(default_factory=ScalingSpec)
    run: RunSpec = field(default_factory=RunSpec)
    telemetry: TelemetrySpec = field(default_factory=TelemetrySpec)

    @property
    def num_outputs(self) -> int:
        """Width of the decision layer: classes (expressions) or AUs (aus)."""
        return len(self.data.au_ids) if self.scenario == "aus" else len(self.data.class_names)
