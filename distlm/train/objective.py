"""The training objective shared by both scenarios: ``L = λ1·L_S + λ2·L_aux``.

*expressions* (table 1): ``L_S`` = cross-entropy on labelled samples; the
auxiliary embedding loss (LM, center, island) sees labelled samples with their
annotation and, when self-labelling is on, unlabelled samples with the argmax of
the network's own softmax (optionally thresholded). ``pseudo_label`` is Lee's
(2013) baseline: cross-entropy on the self-labels instead of an embedding loss.

*aus* (table 2): ``L_S`` = MSE or BCE on the labelled AU vectors (unknown labels
masked); pseudo-emotions from a formula set (argmax of the per-emotion means of
the AU scores) are the classes of every sample, labelled or not, for the
centroids and the embedding loss.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch import nn

from distlm.losses import LOSSES, create_loss
from distlm.precision import full_precision
from distlm.selflabel import Assignment, mix_labels
from distlm.selflabel.policies import ALIGNMENTS, THRESHOLDS
from distlm.train.supervised import SUPERVISED, masked_mean
from distlm.weighting import create_weighting

SELF_LABEL_CE = ("pseudo_label", "fixmatch")  # cross-entropy on self-labels, no embedding loss

# The spec options each built-in embedding loss takes besides ``num_classes`` and
# ``reduction``; a loss registered by a plugin gets only those two.
LOSS_OPTIONS = {
    "lm": lambda loss: dict(centroids=loss.centroids, push=loss.push,
                            **({"momentum": loss.ema_momentum} if loss.centroids == "ema" else {})),
    "center": lambda loss: dict(alpha=loss.center_alpha),
    "island": lambda loss: dict(alpha=loss.center_alpha, island_lambda=loss.island_lambda),
}


def is_embedding_loss(name: str) -> bool:
    """``loss.aux`` names an entry of the embedding-loss registry (``lm``, ``center``,
    ``island`` or one a plugin registered)."""
    return name in LOSSES


def uses_unlabelled(spec) -> bool:
    """Whether a job's objective reads unlabelled samples (SSL or transfer)."""
    return (spec.loss.aux in SELF_LABEL_CE or spec.loss.consistency != "none"
            or (spec.selflabel.enabled and is_embedding_loss(spec.loss.aux)))


def self_label_ce(logits_u: torch.Tensor, a: Assignment) -> torch.Tensor:
    """Mean cross-entropy of ``logits_u (B_u, K)`` on the kept self-labels of ``a``
    (Lee 2013; FixMatch when ``logits_u`` come from the strong view and ``a`` from
    the weak one); samples below the threshold count as zero, the mean is over the
    kept ones of every worker (:func:`~distlm.train.supervised.masked_mean`)."""
    per = F.cross_entropy(full_precision(logits_u), a.labels.clamp(min=0), reduction="none")
    return masked_mean(per, a.mask)


@dataclass
class StepResult:
    """One step's loss and what telemetry reports about it.

    Every value stays on the device (0-dim tensors, detached): nothing here reads it
    on the host, so a step never waits for the GPU; the trainer reads the values of
    several steps at once (:class:`~distlm.train.metrics.StepMetrics`).
    """

    loss: torch.Tensor
    terms: Dict[str, torch.Tensor] = field(default_factory=dict)
    selflabel_hist: Optional[torch.Tensor] = None  # (K,) counts of assigned classes
    selflabel_conf: Optional[torch.Tensor] = None  # mean confidence of the assigned classes
    selflabel_kept: Optional[torch.Tensor] = None  # fraction above the threshold


def build_weighting(spec, total_steps: int):
    w = spec.loss.weighting
    kw = dict(lambda1=w.lambda1, lambda2=w.lambda2)
    if w.mode == "auto":
        kw.update(ratio=w.ratio, freeze_after=w.freeze_after)
    elif w.mode == "schedule":
        kw.update(final=w.schedule.final, total_steps=max(total_steps, 1), kind=w.schedule.kind)
    return create_weighting(w.mode, **kw)


class Objective(nn.Module):
    """Computes the step loss from the model outputs on ``cat([x_l, x_u])``.

    Args:
        spec: the job spec (``loss``, ``selflabel``, ``scenario`` sections).
        num_classes: ``K`` classes of the embedding loss (expressions, or emotions
            of the formula set).
        formulas: the formula module ``(B, M) -> (B, K)`` (aus scenario).
        total_steps: steps of the whole run (for scheduled weights).
    """

    def __init__(self, spec, num_classes: int, formulas: Optional[nn.Module] = None, total_steps: int = 1):
        super().__init__()
        self.scenario = spec.scenario
        self.supervised = SUPERVISED.get(spec.loss.supervised)
        self.aux_name = spec.loss.aux
        sl = spec.selflabel
        self.selflabel = sl.enabled
        self.num_classes = num_classes
        self.membership = spec.loss.membership
        self.threshold = THRESHOLDS.create(sl.threshold_policy, num_classes=num_classes, threshold=sl.threshold)
        self.alignment = ALIGNMENTS.create(sl.alignment, num_classes=num_classes)
        self.warmup = spec.loss.weighting.warmup_steps
        self.consistency = spec.loss.consistency          # "fixmatch": + λ3·CE(strong, weak self-labels)
        self.consistency_weight = spec.loss.consistency_weight
        self.formulas = formulas
        embedding = is_embedding_loss(self.aux_name)
        if self.scenario == "aus" and embedding and formulas is None:
            raise ValueError("scenario 'aus' with an embedding loss needs selflabel.formulas")
        self.aux = self._build_aux(spec) if embedding else None
        self.uses_unlabelled = uses_unlabelled(spec)
        self.weighting = build_weighting(spec, total_steps)
        self._prev_centroids: Optional[torch.Tensor] = None

    def _build_aux(self, spec) -> nn.Module:
        loss = spec.loss
        options = LOSS_OPTIONS.get(self.aux_name, lambda _: {})(loss)
        return create_loss(self.aux_name, num_classes=self.num_classes, reduction=loss.reduction, **options)

    @torch.no_grad()
    def assign(self, logits: torch.Tensor, labels_l: Optional[torch.Tensor] = None) -> Assignment:
        """Self-labels (expressions: softmax) or pseudo-emotions (aus: formula scores
        of the sigmoid AU scores) from decision outputs ``(B, K)``, aligned and
        thresholded by the configured policies; ``-1`` where not kept."""
        x = full_precision(logits.detach())
        scores = self.formulas(torch.sigmoid(x)) if self.scenario == "aus" else torch.softmax(x, dim=1)
        scores = self.alignment(scores, labels_l)
        conf, labels = scores.max(dim=1)
        mask = self.threshold(conf, labels, scores)
        return Assignment(torch.where(mask, labels, torch.full_like(labels, -1)), conf, mask)

    def centroid_state(self) -> Optional[torch.Tensor]:
        """Current centroids ``(K, D)`` of the embedding loss, if it has any."""
        if self.aux is None:
            return None
        return self.aux.centroids.centroids if hasattr(self.aux, "centroids") else self.aux.centers

    def forward(self, embedding: torch.Tensor, logits: torch.Tensor, batch, step: int,
                selflabel_logits: Optional[torch.Tensor] = None) -> StepResult:
        """``embedding (B, D)``/``logits (B, K)`` of ``cat([x_l, x_u])`` (the strong
        view of ``x_u`` when configured); ``selflabel_logits (B, K)``: outputs of the
        weak view / EMA teacher on the same samples, used only to assign classes."""
        n_l = batch.num_labelled
        l_s = self.supervised(logits[:n_l], batch)
        lam1, lam2 = self.weighting.weights(step)  # λ2 may be a device tensor (auto weighting)
        if self.warmup:
            lam2 = lam2 * min(1.0, step / self.warmup)
        # a device λ2 (auto rule) stays a tensor; a Python one is only filled in for the
        # record (no host-to-device copy in the step)
        if isinstance(lam2, torch.Tensor):
            lam2 = lam2.to(l_s.device, l_s.dtype)
        lam2_term = lam2.detach() if isinstance(lam2, torch.Tensor) else torch.full_like(l_s.detach(), lam2)
        result = StepResult(loss=lam1 * l_s, terms={"loss_supervised": l_s.detach(),
                                                   "lambda1": torch.full_like(l_s.detach(), lam1),
                                                   "lambda2": lam2_term})
        teacher = logits if selflabel_logits is None else selflabel_logits
        # one assignment per step for the unlabelled part (stateful thresholds count once)
        a_u = (self.assign(teacher[n_l:], batch.y_l)
               if self.scenario != "aus" and (self.selflabel or self.aux_name in SELF_LABEL_CE
                                               or self.consistency != "none") else None)
        assigned = a_u
        if self.aux_name != "none":
            l_aux, assigned = self._aux(full_precision(embedding), logits, batch, teacher, a_u)
            result.loss = result.loss + lam2 * l_aux
            self.weighting.observe(l_s.detach(), l_aux.detach())
            result.terms["loss_aux"] = l_aux.detach()
        if self.consistency == "fixmatch":
            l_c = self_label_ce(logits[n_l:], a_u)
            ramp = min(1.0, step / self.warmup) if self.warmup else 1.0
            result.loss = result.loss + self.consistency_weight * ramp * l_c
            result.terms["loss_consistency"] = l_c.detach()
        result.terms["loss"] = result.loss.detach()
        if assigned is not None and assigned.labels.numel():
            kept = assigned.mask
            result.selflabel_hist = torch.bincount(assigned.labels[kept], minlength=self.num_classes)
            result.selflabel_conf = assigned.confidence.mean()
            result.selflabel_kept = kept.float().mean()
        if self.aux_name != "none":
            result.terms["centroid_drift"] = self._drift(l_s.device)
        return result

    def _aux(self, emb: torch.Tensor, logits: torch.Tensor, batch, teacher: torch.Tensor,
             a: Optional[Assignment]):
        n_l = batch.num_labelled
        if self.aux_name in SELF_LABEL_CE:  # Lee 2013 / FixMatch: CE on (weak-view) self-labels
            return self_label_ce(logits[n_l:], a), a
        if self.scenario == "aus":
            a = self.assign(teacher)  # pseudo-emotions of every sample (eq. 6-7), thresholded
            if not self.selflabel:  # supervised variant: labelled samples only
                a = Assignment(a.labels[:n_l], a.confidence[:n_l], a.mask[:n_l])
            n = a.labels.shape[0]
            # soft membership: every sample weighs by its formula score; "labelled":
            # centroids from the annotated samples' pseudo-emotions only
            return self._embedding_loss(emb[:n], a.labels, a.confidence, n_l), a
        if not self.selflabel:
            return self.aux(emb[:n_l], batch.y_l), a
        labels = mix_labels(batch.y_l, a)
        conf = torch.cat([torch.ones(n_l, device=a.confidence.device), a.confidence])
        return self._embedding_loss(emb, labels, conf, n_l), a

    def _embedding_loss(self, emb: torch.Tensor, labels: torch.Tensor, confidence: torch.Tensor,
                        n_l: int) -> torch.Tensor:
        """The embedding loss of ``emb (B, D)`` with ``labels (B,)`` (``-1``: none) under
        ``loss.membership``: ``hard`` (every assigned sample builds the centroids),
        ``confidence`` (weighted by ``confidence (B,)``), ``labelled`` (only the first
        ``n_l`` samples build them; the others are still pulled)."""
        if self.membership == "hard":
            return self.aux(emb, labels)
        if self.membership == "confidence":
            return self.aux(emb, labels, membership=confidence.to(emb.device, emb.dtype))
        c_labels = labels.clone()
        c_labels[n_l:] = -1
        return self.aux(emb, labels, centroid_labels=c_labels)

    @torch.no_grad()
    def _drift(self, device: torch.device) -> torch.Tensor:
        """Mean movement of the normalised centroids since the previous step (0-dim,
        on the device; NaN before there are two steps of centroids)."""
        c = self.centroid_state()
        if c is None or c.numel() == 0:
            return torch.full((), float("nan"), device=device)
        cn = F.normalize(full_precision(c), dim=1)
        prev, self._prev_centroids = self._prev_centroids, cn.clone()
        if prev is None or prev.shape != cn.shape:
            return torch.full((), float("nan"), device=cn.device)
        return (cn - prev).norm(dim=1).mean()

    def end_epoch(self) -> None:
        if self.aux is not None and hasattr(self.aux, "end_epoch"):
            self.aux.end_epoch()
