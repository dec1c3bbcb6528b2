"""Crops in, per-face score columns out: the model half of prediction."""
from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np
import torch

from distlm.checkpoint.bundle import Bundle
from distlm.predict.defaults import AU_THRESHOLD
from distlm.models.forward import predict_batch
from distlm.predict.emotions import emotion_columns

#: AU scores at or above this are ``on`` (sigmoid heads: probability 0.5).
DEFAULT_THRESHOLD = AU_THRESHOLD


class Scorer:
    """Runs a :class:`Bundle`'s model on uint8 crops, ``batch_size`` at a time.

    Args:
        bundle: the loaded checkpoint.
        device: ``cpu``, ``cuda``, ``cuda:1``...; None: CUDA if available.
        batch_size: crops per forward pass.
        threshold: AU on/off threshold on the head's scores.
    """

    def __init__(self, bundle: Bundle, device: Optional[str] = None, batch_size: int = 64,
                 threshold: float = DEFAULT_THRESHOLD) -> None:
        self.bundle = bundle
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = bundle.model.to(self.device).eval()
        self.batch_size, self.threshold = batch_size, threshold
        self.formula = None if bundle.formula is None else bundle.formula.to(self.device)

    @torch.no_grad()
    def scores(self, crops: np.ndarray) -> np.ndarray:
        """``(N, S, S, C)`` uint8 crops → ``(N, K)`` float32 head scores (probabilities / AU scores)."""
        outs = []
        for start in range(0, len(crops), self.batch_size):
            out = predict_batch(self.model, np.ascontiguousarray(crops[start : start + self.batch_size]),
                                self.bundle.norm, self.device)
            outs.append(self.model.scores(out.logits.float()).cpu())
        if not outs:
            return np.zeros((0, len(self.bundle.names)), np.float32)
        return torch.cat(outs).numpy().astype(np.float32)

    def columns(self, crops: np.ndarray) -> Dict[str, np.ndarray]:
        """Output columns for ``(N, S, S, C)`` crops (see :func:`score_columns`)."""
        return score_columns(self.bundle, self.scores(crops), self.threshold)


def score_columns(bundle: Bundle, scores: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> Dict[str, np.ndarray]:
    """Named columns from ``(N, K)`` head scores.

    Expression models: one probability column per class (named by
    :func:`~distlm.predict.emotions.emotion_columns`: ``happy`` → ``happiness``…) plus
    ``expression`` (the arg-max column name). AU models: ``AU01``… scores,
    ``AU01_on``… (0/1 at ``threshold``) and, when the checkpoint has formulas, one
    pseudo-emotion score column per emotion (py-feat names) plus ``pseudo_emotion``
    (the arg-max).
    """
    cols: Dict[str, np.ndarray] = {}
    if bundle.kind != "aus":
        names = emotion_columns(bundle.names)
        for j, name in enumerate(names):
            cols[name] = scores[:, j]
        top = scores.argmax(axis=1) if len(scores) else np.zeros(0, np.int64)
        cols["expression"] = np.array([names[i] for i in top], dtype=object)
        return cols
    for j, name in enumerate(bundle.names):
        cols[name] = scores[:, j]
    for j, name in enumerate(bundle.names):
        cols[f"{name}_on"] = (scores[:, j] >= threshold).astype(np.int8)
    if bundle.formula is not None and bundle.emotions:
        pseudo = scores @ bundle.formula.numpy()
        emotions = emotion_columns(bundle.emotions)
        for k, emo in enumerate(emotions):
            cols[emo] = pseudo[:, k].astype(np.float32)
        top = pseudo.argmax(axis=1) if len(pseudo) else np.zeros(0, np.int64)
        cols["pseudo_emotion"] = np.array([emotions[i] for i in top], dtype=object)
    return cols


def score_names(bundle: Bundle) -> List[str]:
    """The score column names :func:`score_columns` produces, in order."""
    return list(score_columns(bundle, np.zeros((1, len(bundle.names)), np.float32)))


def class_columns(bundle: Bundle) -> List[str]:
    """The score column of each of ``bundle.names``, in order (expression classes
    renamed as in :func:`score_columns`; AU ids unchanged)."""
    return list(bundle.names) if bundle.kind == "aus" else emotion_columns(bundle.names)
