"""The large-margin loss of the paper (eq. 3), functional form and module.

Per sample ``i`` with class ``j = y_i`` and ``P`` the classes that have a centroid::

    L_i = ‖x̂_i − ĉ_j‖² − 1/(|P|−1) · Σ_{k∈P, k≠j} ‖x̂_i − ĉ_k‖²

with ``x̂ = x/‖x‖`` and ``ĉ = c/‖c‖`` (centroids of *raw* embeddings, normalised,
detached). The push term is 0 when ``|P| < 2``. All distances come from one
``(B, C)`` matrix ``‖x̂‖² + ‖ĉ‖² − 2·x̂ĉᵀ``: no loop and no ``B×C×D`` tensor.

``push="nearest"`` (not the paper's) replaces the mean over the other classes by the
nearest one, ``min_{k∈P, k≠j} ‖x̂_i − ĉ_k‖²``: the mean push is satisfied by a small
*mean* cosine between classes even when two of them share a direction; the nearest
push acts on exactly the class a sample is closest to confusing with its own.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch

from distlm.centroids import create_centroids
from distlm.losses.base import EmbeddingLoss, check_inputs, reduce_loss
from distlm.losses.registry import LOSSES

EPS = 1e-12


def normalize(x: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """``x / max(‖x‖₂, eps)`` row-wise; ``(N, D) -> (N, D)``."""
    return x / x.norm(dim=1, keepdim=True).clamp(min=eps)


def _sq_distances(sq_x: torch.Tensor, cos: torch.Tensor, ch: torch.Tensor) -> torch.Tensor:
    """``‖x̂_i − ĉ_k‖² (B, C)`` from ``‖x̂_i‖² (B,)``, ``x̂·ĉᵀ (B, C)`` and ``ĉ (C, D)``
    (``‖ĉ_k‖²`` is 1 for present classes, 0 for absent ones)."""
    return sq_x[:, None] + (ch * ch).sum(1)[None, :] - 2.0 * cos


def _own_class(d2: torch.Tensor, labels: torch.Tensor,
               present: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``j (B,)`` (labels, −1 read as 0), ``valid (B,)`` (float 0/1: labelled and the
    class has a centroid) and the pull term ``d2[i, j_i] (B,)``."""
    j = labels.clamp(min=0)
    valid = (present[j] & (labels >= 0)).to(d2.dtype)
    return j, valid, d2.gather(1, j[:, None]).squeeze(1)


class _LargeMarginFn(torch.autograd.Function):
    """Eq. 3 per sample with its exact gradient written out (eq. 5, exact Jacobian).

    Forward reads ``x`` twice (norms, ``x·ĉᵀ``); backward is one ``(B, C)·(C, D)``
    matmul and one fused multiply-add, so the loss costs about as much memory
    traffic as a linear head. With ``A = ∂L/∂cos (B, C)`` and ``cos = x̂·ĉᵀ``:
    ``∂L/∂x = (A·ĉ − (Σ_k A∘cos)·x̂) / ‖x‖`` (the rows of ``(I − x̂x̂ᵀ)/‖x‖``).
    """

    @staticmethod
    def forward(ctx, x, labels, ch, present):
        n = torch.linalg.vector_norm(x, dim=1)
        nc = n.clamp(min=EPS)
        cos = (x @ ch.t()) / nc[:, None]  # (B, C) = x̂·ĉ
        d2 = _sq_distances((n / nc) ** 2, cos, ch)  # ‖x̂‖² is 1 unless ‖x‖ < eps
        j, valid, pull = _own_class(d2, labels, present)
        p = present.to(x.dtype)
        n_push = p.sum() - 1.0  # |P| - 1 (own class is in P for every valid sample)
        coef = 1.0 / n_push.clamp(min=1.0) * (n_push > 0)
        push = (d2 @ p - pull) * coef
        ctx.save_for_backward(x, nc, cos, ch, j, valid, p, coef)
        return (pull - push) * valid, valid

    @staticmethod
    def backward(ctx, g, _g_valid):
        x, nc, cos, ch, j, valid, p, coef = ctx.saved_tensors
        onehot = torch.nn.functional.one_hot(j, ch.shape[0]).to(x.dtype)
        # ∂L_i/∂cos_ik = -2·[k=j] + 2·coef·p_k·[k≠j]
        A = (-2.0 * onehot + 2.0 * coef * (p[None, :] - onehot)) * (g * valid)[:, None]
        inv = 1.0 / nc
        grad = (A * inv[:, None]) @ ch  # scale the (B, C) factor, not the (B, D) product
        grad.addcmul_(x, (-(A * cos).sum(1) * inv * inv)[:, None])
        return grad, None, None, None


def _nearest_push(x: torch.Tensor, labels: torch.Tensor, ch: torch.Tensor,
                  present: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """``‖x̂_i − ĉ_j‖² − min_{k∈P, k≠j} ‖x̂_i − ĉ_k‖²`` per sample (autograd);
    same arguments and returns as ``_LargeMarginFn``; push 0 when ``|P| < 2``."""
    xh = normalize(x)
    d2 = _sq_distances((xh * xh).sum(1), xh @ ch.t(), ch)
    j, valid, pull = _own_class(d2, labels, present)
    others = present[None, :] & (torch.arange(ch.shape[0], device=x.device)[None, :] != j[:, None])  # (B, C)
    nearest = d2.masked_fill(~others, float("inf")).min(dim=1).values
    push = torch.where(others.any(dim=1), nearest, torch.zeros_like(nearest))
    return (pull - push) * valid, valid


# push term over the other classes -> per-sample function (x, labels, ĉ, present)
PUSHES = {"mean": _LargeMarginFn.apply, "nearest": _nearest_push}


def check_push(push: str) -> str:
    """``push`` if it names a registered push term, else a ``ValueError`` listing them."""
    if push not in PUSHES:
        raise ValueError(f"push must be one of {sorted(PUSHES)}, got {push!r}")
    return push


def large_margin_per_sample(
    x: torch.Tensor,
    labels: torch.Tensor,
    centroids: torch.Tensor,
    present: Optional[torch.Tensor] = None,
    push: str = "mean",
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-sample large-margin loss and validity.

    Args:
        x: ``(B, D)`` raw embeddings (normalised inside; gradients flow to ``x``).
        labels: ``(B,)`` long class ids, ``-1`` for none.
        centroids: ``(C, D)`` raw centroids (normalised and detached here).
        present: ``(C,)`` bool, classes that have a centroid (all when None).
        push: ``mean`` (eq. 3: the mean over the other classes) | ``nearest``.
    Returns:
        ``loss (B,)`` and ``valid (B,)`` (float 0/1): a sample counts when it has a
        class and that class has a centroid.
    """
    check_push(push)
    C = centroids.shape[0]
    present = torch.ones(C, dtype=torch.bool, device=x.device) if present is None else present.to(x.device)
    ch = normalize(centroids.detach().to(x.dtype)) * present[:, None]
    return PUSHES[push](x, labels, ch, present)


def large_margin(
    x: torch.Tensor,
    labels: torch.Tensor,
    centroids: torch.Tensor,
    present: Optional[torch.Tensor] = None,
    weights: Optional[torch.Tensor] = None,
    reduction: str = "mean",
    push: str = "mean",
) -> torch.Tensor:
    """Large-margin loss (eq. 3) against user-given centroids.

    Args:
        x: ``(B, D)`` raw embeddings. labels: ``(B,)``, ``-1`` = ignore.
        centroids: ``(C, D)`` raw centroids (treated as constants).
        present: ``(C,)`` bool mask of classes that have a centroid.
        weights: optional ``(B,)`` per-sample weights.
        reduction: ``mean`` (over counted samples) | ``sum`` | ``none``.
        push: ``mean`` (the paper) | ``nearest`` (the closest other class).
    Returns:
        A scalar in ``[-4, 4]`` for ``mean`` (``(B,)`` for ``none``).

    Example:
        >>> x = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
        >>> large_margin(x, torch.tensor([0, 1]), torch.eye(2))
        tensor(-2.)
    """
    check_inputs(x, labels, centroids.shape[0])
    loss, valid = large_margin_per_sample(x, labels.to(x.device), centroids, present, push)
    w = valid if weights is None else valid * weights.to(valid)
    return reduce_loss(loss, w, reduction)


@LOSSES.register("lm")
class LargeMarginLoss(EmbeddingLoss):
    """The paper's large-margin loss with centroids owned by a strategy.

    Each call updates the centroid strategy from the batch (per-class sums and
    counts all-reduced across the process group, then divided), and evaluates
    eq. 3 against the updated, normalised, detached centroids.

    Args:
        num_classes: ``C``.
        centroids: strategy name (``batch`` | ``ema`` | ``epoch``) or an instance.
        reduction: ``mean`` | ``sum`` | ``none``.
        push: ``mean`` (eq. 3) | ``nearest`` (push from the closest other centroid).
        **centroid_kwargs: passed to the strategy (e.g. ``momentum=0.9`` for ema).

    Example:
        >>> loss = LargeMarginLoss(num_classes=7, centroids="ema", momentum=0.9)
        >>> value = loss(torch.randn(32, 128), torch.randint(0, 7, (32,)))
    """

    def __init__(self, num_classes: int, centroids="batch", reduction: str = "mean",
                 sync: bool = True, group: Optional[object] = None, push: str = "mean", **centroid_kwargs):
        super().__init__(num_classes, reduction, sync, group)
        self.push = check_push(push)
        if isinstance(centroids, str):
            centroids = create_centroids(centroids, num_classes=num_classes, group=group, **centroid_kwargs)
        self.centroids = centroids

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor, weights: Optional[torch.Tensor] = None,
                membership: Optional[torch.Tensor] = None,
                centroid_labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Eq. 3 on ``embeddings (B, D)`` with classes ``labels (B,)`` (-1: none).

        Args:
            weights: ``(B,)`` per-sample loss weights; also the centroid membership
                weights unless ``membership`` is given.
            membership: ``(B,)`` weights of each sample in its class centroid (e.g.
                self-label confidence: soft centroids).
            centroid_labels: ``(B,)`` classes for the centroids when they differ
                from ``labels`` (e.g. labelled-only centroids: -1 for unlabelled
                samples, which are still pulled to their self-labelled class).
        """
        check_inputs(embeddings, labels, self.num_classes)
        labels = labels.to(embeddings.device)
        c_labels = labels if centroid_labels is None else centroid_labels.to(labels)
        member = weights if membership is None else membership
        if self.training:
            cents, present = self.centroids(embeddings, c_labels, member)
        else:
            cents, present = self.centroids.centroids, self.centroids.present
        loss, valid = large_margin_per_sample(embeddings, labels, cents, present, self.push)
        w = valid if weights is None else valid * weights.to(valid)
        return reduce_loss(loss, w, self.reduction, self.sync, self.group)

    def end_epoch(self) -> None:
        self.centroids.end_epoch()
