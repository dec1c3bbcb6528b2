"""Synthetic crops generated in memory: no files, no download.

For smoke tests of every job spec, the GPU check and benchmarks where the data only
has to have the right shape and a learnable signal. Rows carry ``image`` (uint8
``(size, size, channels)``): a class-dependent pattern (each class its own bright
band) plus seeded noise, so a network can learn the classes. ``path`` is the
pseudo-path it was given (nothing is read).

Options: ``rows`` train rows and ``test_rows`` test rows (``split`` picks them:
``all``, ``train`` or ``test``); ``classes`` (0: rows without a class label, -1);
``aus``: number of AU values per row (0/1, all known; 0: none); ``domain``:
``labelled`` or ``unlabelled`` (unlabelled rows have label -1 and no AUs);
``seed``.
"""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
import pyarrow as pa

from distlm.data.readers.base import READERS
from distlm.data.image_column import tensor as image_tensor
from distlm.data.readers.schema import LABELLED, UNLABELLED, index_metadata, index_table
from distlm.data.report import ReadReport


def synthetic_images(labels: np.ndarray, size: int, channels: int, seed: int) -> np.ndarray:
    """``(N, size, size, channels)`` uint8: noise around 64, plus a band at 224 whose
    position is the row's class (label ``-1``: no band)."""
    rng = np.random.default_rng(seed)
    images = rng.normal(64, 24, (len(labels), size, size, channels)).clip(0, 255)
    classes = int(labels.max()) + 1 if len(labels) and labels.max() >= 0 else 1
    band = max(size // max(classes, 1), 1)
    for i, c in enumerate(labels):
        if c >= 0:
            images[i, (c * band) % size:(c * band) % size + band] = 224
    return images.astype(np.uint8)


@READERS.register("synthetic")
def read_synthetic(
    path: str = "synthetic",
    *,
    rows: int = 64,
    test_rows: int = 32,
    split: str = "all",
    size: int = 32,
    channels: int = 3,
    classes: int = 7,
    aus: int = 0,
    domain: str = LABELLED,
    seed: int = 0,
    storage=None,
    strict: bool = False,
) -> Tuple[pa.Table, ReadReport]:
    """The synthetic index (see the module docstring)."""
    if split not in ("all", "train", "test"):
        raise ValueError(f"synthetic: split must be all, train or test, got {split!r}")
    if domain not in (LABELLED, UNLABELLED):
        raise ValueError(f"synthetic: domain must be {LABELLED} or {UNLABELLED}, got {domain!r}")
    for name, value in (("rows", rows), ("test_rows", test_rows), ("size", size), ("channels", channels),
                        ("classes", classes), ("aus", aus)):
        if int(value) < 0 or (name in ("size", "channels") and int(value) < 1):
            raise ValueError(f"synthetic: {name} must be a positive count, got {value!r}")
    report = ReadReport(f"synthetic {path}", strict=strict)
    parts = {"train": int(rows), "test": int(test_rows)}
    names = ("train", "test") if split == "all" else (split,)
    rng = np.random.default_rng(seed + 1)
    cols: Dict[str, list] = {k: [] for k in ("id", "path", "label", "au", "au_mask", "domain", "split")}
    labels_all = []
    for name in names:
        n = parts[name]
        known = classes > 0 and (domain == LABELLED or name == "test")
        labels = np.arange(n) % classes if known else np.full(n, -1)
        labels_all.append(labels.astype(np.int32))
        cols["id"] += [f"{path}/{domain}/{name}/{i:06d}" for i in range(n)]
        cols["path"] += [None] * n
        if aus and domain == LABELLED:
            au = (rng.random((n, aus)) < 0.3).astype(np.float32)
            cols["au"] += au.tolist()
            cols["au_mask"] += np.ones_like(au, dtype=bool).tolist()
        else:
            cols["au"] += [None] * n
            cols["au_mask"] += [None] * n
        cols["domain"] += [domain if name == "train" else LABELLED] * n
        cols["split"] += [name] * n
        report.count("rows", n)
    labels = np.concatenate(labels_all) if labels_all else np.zeros(0, np.int32)
    images = synthetic_images(labels, int(size), int(channels), seed)
    table = index_table(dict(cols, label=labels),
                        index_metadata("synthetic", [f"class{i}" for i in range(classes)], range(1, aus + 1)),
                        extra={"image": image_tensor(images)})
    return table, report
