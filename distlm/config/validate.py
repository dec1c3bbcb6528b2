"""Cross-field rules of a job spec. Each rule is a small pure function that
returns ``(dotted_key, problem)`` pairs; `validate_job` raises the first as a
`SpecError` naming the file that set that key.
"""
from __future__ import annotations

from typing import Callable, Iterator, List, Tuple

from distlm.config.errors import SpecError
from distlm.config.schema import JobSpec
from distlm.config.schema_data import KNOWN_FORMATS
from distlm.config.typecheck import SourceOf
from distlm.config.validate_augment import augment_rule
from distlm.config.validate_crop import crop_rule

Problem = Tuple[str, str]
Rule = Callable[[JobSpec], Iterator[Problem]]


def _positive(spec: JobSpec) -> Iterator[Problem]:
    for key, value in [
        ("data.image_size", spec.data.image_size), ("train.epochs", spec.train.epochs),
        ("train.batch_size", spec.train.batch_size), ("scaling.num_workers", spec.scaling.num_workers),
        ("run.keep", spec.run.keep), ("optim.lr", spec.optim.lr),
        ("loss.weighting.ratio", spec.loss.weighting.ratio), ("data.shuffle_buffer_mb", spec.data.shuffle_buffer_mb),
    ]:
        if value <= 0:
            yield key, f"must be > 0, got {value!r}"
    for key, opt in [("train.steps_per_epoch", spec.train.steps_per_epoch),
                     ("data.labels_per_class", spec.data.labels_per_class),
                     ("model.embedding_dim", spec.model.embedding_dim),
                     ("train.grad_clip", spec.train.grad_clip)]:
        if opt is not None and opt <= 0:
            yield key, f"must be > 0 or null, got {opt!r}"
    for key, value in [
        ("data.unlabelled_ratio", spec.data.unlabelled_ratio),
        *([("data.shuffle_buffer", spec.data.shuffle_buffer)] if isinstance(spec.data.shuffle_buffer, int) else []),
        ("optim.weight_decay", spec.optim.weight_decay),
        ("train.eval_every", spec.train.eval_every), ("train.log_every", spec.train.log_every),
        ("run.checkpoint_every", spec.run.checkpoint_every), ("run.max_failures", spec.run.max_failures),
        ("loss.weighting.lambda1", spec.loss.weighting.lambda1),
        ("loss.weighting.lambda2", spec.loss.weighting.lambda2),
        ("loss.weighting.warmup_steps", spec.loss.weighting.warmup_steps),
        ("scaling.cpus_per_worker", spec.scaling.cpus_per_worker),
        ("telemetry.log_every", spec.telemetry.log_every),
    ]:
        if value < 0:
            yield key, f"must be >= 0, got {value!r}"


def _ranges(spec: JobSpec) -> Iterator[Problem]:
    if spec.data.channels not in (1, 3):
        yield "data.channels", f"must be 1 or 3, got {spec.data.channels!r}"
    t = spec.selflabel.threshold
    if t is not None and not 0.0 <= t <= 1.0:
        yield "selflabel.threshold", f"must be in [0, 1] or null, got {t!r}"
    if not 0.0 <= spec.loss.ema_momentum < 1.0:
        yield "loss.ema_momentum", f"must be in [0, 1), got {spec.loss.ema_momentum!r}"
    wa = spec.train.weight_average
    if wa is not None and not 0.0 <= wa < 1.0:
        yield "train.weight_average", f"must be in [0, 1) or null, got {wa!r}"
    if not 0.0 < spec.loss.center_alpha <= 1.0:
        yield "loss.center_alpha", f"must be in (0, 1], got {spec.loss.center_alpha!r}"
    if not -1 <= spec.telemetry.metrics_port <= 65535:
        yield "telemetry.metrics_port", f"must be a port in 0..65535 (0 off, -1 any free), got {spec.telemetry.metrics_port!r}"
    b1, b2 = spec.optim.betas
    if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
        yield "optim.betas", f"each beta must be in [0, 1), got {list(spec.optim.betas)!r}"
    if spec.scaling.use_gpu and spec.scaling.gpus_per_worker <= 0:
        yield "scaling.gpus_per_worker", "must be > 0 when scaling.use_gpu is true"


def _telemetry(spec: JobSpec) -> Iterator[Problem]:
    tb, ml = spec.telemetry.tensorboard, spec.telemetry.mlflow
    if tb is not None and (not tb or "://" in tb):
        yield "telemetry.tensorboard", f"must be a local directory or null, got {tb!r}"
    if ml is not None and not ml.experiment:
        yield "telemetry.mlflow.experiment", "must not be empty"


def _sources(spec: JobSpec) -> Iterator[Problem]:
    for role in ("labelled", "unlabelled", "test"):
        src = getattr(spec.data, role)
        if src is None:
            continue
        if src.format not in KNOWN_FORMATS:
            yield f"data.{role}.format", (f"unknown reader {src.format!r}; "
                                          f"known: {', '.join(KNOWN_FORMATS)}")
        if not src.path:
            yield f"data.{role}.path", "must not be empty"


def _scenario(spec: JobSpec) -> Iterator[Problem]:
    data, loss, model = spec.data, spec.loss, spec.model
    if spec.scenario == "expressions":
        if len(data.class_names) < 2:
            yield "data.class_names", "scenario 'expressions' needs at least 2 class names"
        if data.au_ids:
            yield "data.au_ids", "only used with scenario 'aus'"
        if model.head != "softmax":
            yield "model.head", f"scenario 'expressions' needs head 'softmax', got {model.head!r}"
        if loss.supervised != "ce":
            yield "loss.supervised", f"scenario 'expressions' needs 'ce', got {loss.supervised!r}"
        if spec.selflabel.formulas is not None:
            yield "selflabel.formulas", "only used with scenario 'aus'"
    else:
        if not data.au_ids:
            yield "data.au_ids", "scenario 'aus' needs the list of annotated AU ids"
        if model.head == "softmax":
            yield "model.head", "scenario 'aus' needs head 'sigmoid' or 'linear', got 'softmax'"
        if loss.supervised == "ce":
            yield "loss.supervised", "scenario 'aus' needs an AU loss ('mse', 'bce', 'mse_linear'), got 'ce'"
        if loss.aux in ("pseudo_label", "fixmatch"):
            yield "loss.aux", f"{loss.aux!r} needs mutually exclusive classes (scenario 'expressions')"
        if loss.aux != "none" and not spec.selflabel.formulas:
            yield "selflabel.formulas", (f"scenario 'aus' with loss.aux {loss.aux!r} needs a formula "
                                         "set (name or YAML path) to make pseudo-emotions")
    for key, items in (("data.class_names", data.class_names), ("data.au_ids", data.au_ids)):
        if len(set(items)) != len(items):
            yield key, f"has duplicates: {list(items)!r}"


def _ssl(spec: JobSpec) -> Iterator[Problem]:
    data, sl = spec.data, spec.selflabel
    if data.labels_per_class is not None and data.labelled.format != "fmnist":
        yield "data.labels_per_class", (f"only with data.labelled.format 'fmnist', "
                                        f"got {data.labelled.format!r}")
    has_pool = data.unlabelled is not None or data.labels_per_class is not None
    if sl.enabled and not has_pool:
        yield "selflabel.enabled", "needs unlabelled data: set data.unlabelled (or data.labels_per_class with fmnist)"
    if data.unlabelled is not None and not sl.enabled:
        yield "data.unlabelled", "is set but unused: set selflabel.enabled: true, or data.unlabelled: null"
    if sl.enabled and spec.loss.aux == "none" and spec.loss.consistency == "none":
        yield "selflabel.enabled", "self-labels feed only the auxiliary loss: set loss.aux (e.g. lm)"
    if spec.loss.aux in ("pseudo_label", "fixmatch") and not sl.enabled:
        yield "loss.aux", f"{spec.loss.aux!r} trains on self-labels: set selflabel.enabled: true"
    thresholded = sl.threshold is not None or sl.threshold_policy == "freematch"
    if spec.loss.aux == "fixmatch" and (sl.strong_augment is None or not thresholded):
        yield "loss.aux", ("'fixmatch' needs selflabel.strong_augment and selflabel.threshold "
                           "(or threshold_policy: freematch)")
    if spec.loss.consistency != "none":
        if spec.scenario == "aus":
            yield "loss.consistency", "needs mutually exclusive classes (scenario 'expressions')"
        if not sl.enabled or sl.strong_augment is None or not thresholded:
            yield "loss.consistency", (f"{spec.loss.consistency!r} needs selflabel.enabled, "
                                       "selflabel.strong_augment and selflabel.threshold "
                                       "(or threshold_policy: freematch)")
        if spec.loss.aux in ("pseudo_label", "fixmatch"):
            yield "loss.consistency", f"would repeat loss.aux {spec.loss.aux!r}: use one of them"
        if spec.loss.consistency_weight < 0:
            yield "loss.consistency_weight", f"must be >= 0, got {spec.loss.consistency_weight!r}"
    if sl.threshold_policy == "flexmatch" and sl.threshold is None:
        yield "selflabel.threshold_policy", "'flexmatch' needs selflabel.threshold (its τ)"
    if sl.threshold_policy == "freematch" and sl.threshold is not None:
        yield "selflabel.threshold", f"'freematch' sets its own thresholds: leave it unset, got {sl.threshold!r}"
    if sl.alignment != "none" and spec.scenario == "aus":
        yield "selflabel.alignment", "distribution alignment applies to softmax self-labels (scenario: expressions)"
    if spec.loss.membership != "hard" and spec.loss.aux != "lm":
        yield "loss.membership", f"only with loss.aux: lm, got {spec.loss.aux!r}"
    if not 0.0 <= sl.teacher_momentum < 1.0:
        yield "selflabel.teacher_momentum", f"must be in [0, 1), got {sl.teacher_momentum!r}"


def _scaling(spec: JobSpec) -> Iterator[Problem]:
    n, b = spec.scaling.num_workers, spec.train.batch_size
    if n <= 0 or b <= 0:
        return
    if b % n:
        yield "train.batch_size", f"{b} is not divisible by scaling.num_workers={n}"
        return
    # The data layer splits the batch into labelled/unlabelled parts that must each
    # divide over the workers; ask it rather than repeat its rounding rule.
    from distlm.data.loading.sizes import split_batch_size

    ratio = spec.data.unlabelled_ratio if spec.selflabel.enabled else 0.0
    try:
        split_batch_size(b, ratio, n)
    except ValueError as err:
        yield "train.batch_size", str(err)


RULES: List[Rule] = [_positive, _ranges, _telemetry, _sources, _scenario, _ssl, _scaling, augment_rule, crop_rule]


def problems(spec: JobSpec) -> List[Problem]:
    """Every cross-field problem of ``spec`` as ``(dotted_key, text)`` pairs."""
    return [p for rule in RULES for p in rule(spec)]


def validate_job(spec: JobSpec, source_of: SourceOf = lambda key: "<spec>") -> JobSpec:
    """Return ``spec`` unchanged or raise `SpecError` for its first problem."""
    found = problems(spec)
    if found:
        key, text = found[0]
        raise SpecError(source_of(key), key, text)
    return spec
