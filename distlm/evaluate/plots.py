"""PNG figures of an evaluated run (matplotlib, headless).

* ``confusion.png`` — row-normalised confusion matrix (expressions);
* ``embedding.png`` — the normalised embedding in 2-D with its centroids (fig. 2a);
* ``training.png`` — losses, λ2 and centroid movement per step (fig. 4);
* ``au_f1.png`` — F1 per AU (aus).
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional, Sequence

import numpy as np

from distlm.data.fs import atomic_local


def _plt():
    try:
        import matplotlib
    except ImportError:
        from distlm.errors import UserError

        raise UserError("evaluate's figures need matplotlib: pip install 'matplotlib>=3.7' "
                        "(a runtime dependency of distlm; reinstall distlm to get it)") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: str) -> str:
    fig.tight_layout()
    with atomic_local(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path


def project_2d(x: np.ndarray, extra: Optional[np.ndarray] = None):
    """PCA of row-normalised ``x (N, D)`` to 2-D; ``extra (K, D)`` in the same basis."""
    xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    mean = xn.mean(0)
    _, _, vt = np.linalg.svd(xn - mean, full_matrices=False)
    basis = vt[:2].T
    out = (xn - mean) @ basis
    if extra is None:
        return out, None
    en = extra / np.maximum(np.linalg.norm(extra, axis=1, keepdims=True), 1e-12)
    return out, (en - mean) @ basis


def confusion(cm: np.ndarray, names: Sequence[str], path: str) -> str:
    plt = _plt()
    rows = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1 + 0.6 * len(names), 1 + 0.6 * len(names)))
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right")
    ax.set_yticks(range(len(names)), names)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{rows[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if rows[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return _save(plt, fig, path)


def embedding(emb: np.ndarray, labels: np.ndarray, centroids: Optional[np.ndarray], names: Sequence[str],
              path: str, title: str = "normalised embedding (PCA) and centroids") -> str:
    plt = _plt()
    pts, cts = project_2d(emb, centroids)
    fig, ax = plt.subplots(figsize=(6, 5))
    cmap = plt.get_cmap("tab10")
    for k in np.unique(labels[labels >= 0]):
        m = labels == k
        ax.scatter(pts[m, 0], pts[m, 1], s=4, alpha=0.5, color=cmap(int(k) % 10),
                   label=names[k] if k < len(names) else str(k))
    if cts is not None:
        for k, c in enumerate(cts):
            ax.scatter(c[0], c[1], marker="*", s=250, color=cmap(k % 10), edgecolor="black")
    ax.set_title(title)
    ax.legend(fontsize=6, markerscale=3, loc="best")
    return _save(plt, fig, path)


def training(history: Dict[str, List], path: str) -> str:
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
    steps = history.get("step", [])
    for key in ("loss", "loss_supervised", "loss_aux"):
        if history.get(key):
            axes[0].plot(steps, history[key], label=key, lw=0.8)
    axes[0].set_title("losses")
    axes[0].legend(fontsize=7)
    if history.get("centroid_drift"):
        axes[1].plot(steps, history["centroid_drift"], lw=0.8)
    axes[1].set_yscale("log")
    axes[1].set_title("centroid movement per step (fig. 4)")
    evals = history.get("eval", [])
    if evals:
        key = "acc" if "acc" in evals[0] else "avg_full"
        axes[2].plot(history["eval_step"], [e.get(key, np.nan) for e in evals], marker="o")
        axes[2].set_title(f"test {key}")
    for ax in axes:
        ax.set_xlabel("step")
    return _save(plt, fig, path)


def au_f1(f1: Dict[str, float], path: str) -> str:
    plt = _plt()
    keys = sorted(f1)
    fig, ax = plt.subplots(figsize=(1 + 0.5 * len(keys), 3.5))
    ax.bar(range(len(keys)), [100 * f1[k] for k in keys])
    ax.set_xticks(range(len(keys)), [k.replace("f1_", "") for k in keys], rotation=45)
    ax.set_ylabel("F1 (%)")
    return _save(plt, fig, path)


def ensure_dir(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    return path
