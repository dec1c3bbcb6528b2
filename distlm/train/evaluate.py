"""Evaluation of a model on a test shard: the paper's metrics, counts synced.

Each worker evaluates its share of the test set; the count tensors (confusion
matrix, AU tp/fp/fn) are all-reduced, so every worker returns the metrics of the
whole test set.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable

import torch

from distlm.data.loading import NormStats
from distlm.metrics import AUMetrics, CalibrationMetrics, EmbeddingGeometry, ExpressionMetrics
from distlm.models.forward import predict_batch


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside a DDP wrapper (or the model itself)."""
    return getattr(model, "module", model)


@torch.no_grad()
def evaluate(model: torch.nn.Module, batches: Iterable[Dict[str, Any]], spec, norm: NormStats,
             device, collect_embeddings: int = 0) -> Dict[str, Any]:
    """Metrics of ``model`` on ``batches`` (this worker's test share), synced.

    Returns ``acc``/``avg_acc``, ``ece``/``nll`` (calibration of the softmax) and
    ``emb_compactness``/``emb_nearest_cos``/``emb_margin`` (geometry of the
    normalised embeddings per class, :mod:`distlm.metrics.embedding`) for
    expressions, or ``avg_small``/``avg_full`` and ``f1_AUxx`` (aus); with ``collect_embeddings=N`` also up to N local
    ``embeddings``/``targets`` for plots.
    """
    net = unwrap(model)
    was_training = net.training
    net.eval()
    if spec.scenario == "aus":
        metric = AUMetrics(spec.data.au_ids, device=device)
    else:
        metric = ExpressionMetrics(spec.num_outputs, ignore_index=-1, device=device)
        calib = CalibrationMetrics(ignore_index=-1, device=device)
        # every worker declares the same state, even one whose test shard is empty:
        # sync() below is a collective
        geometry = EmbeddingGeometry(spec.num_outputs, net.embedding_dim, ignore_index=-1, device=device)
    embs, targets = [], []
    for b in batches:
        out = predict_batch(net, b["images"], norm, device)
        if spec.scenario == "aus":
            metric.update(torch.sigmoid(out.logits.float()), torch.as_tensor(b["au"]).to(device),
                          torch.as_tensor(b["au_mask"]).to(device))
        else:
            labels = torch.as_tensor(b["labels"]).to(device)
            metric.update(out.logits.float(), labels)
            calib.update(out.logits.float(), labels)
            geometry.update(out.embedding.float(), labels)
        if collect_embeddings and sum(len(e) for e in embs) < collect_embeddings:
            embs.append(out.embedding.float().cpu())
            targets.append(torch.as_tensor(b["labels"]))
    metric.sync()
    result = metric.compute()
    if spec.scenario == "aus":
        f1 = result.pop("f1")
        result.update({f"f1_AU{au:02d}": v for au, v in f1.items()})
    else:
        calib.sync()
        geometry.sync()
        result.update(calib.compute())
        result.update({f"emb_{k}": v for k, v in geometry.compute().items()})
    net.train(was_training)
    if collect_embeddings and embs:
        result["embeddings"] = torch.cat(embs)[:collect_embeddings]
        result["targets"] = torch.cat(targets)[:collect_embeddings]
    return result
