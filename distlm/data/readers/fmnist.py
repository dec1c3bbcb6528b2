"""Fashion-MNIST from its IDX files, with an optional semi-supervised split.

Files (gzipped or not) in ``path``: ``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``.
Rows carry ``image`` (uint8 ``(28, 28, 1)``), ``path`` null, ids
``fmnist/train/00123`` / ``fmnist/test/00123``.

``labels_per_class=N`` keeps, for every class, N train images drawn with ``seed`` as
``labelled``; every other train row becomes ``unlabelled`` with label -1 (its true
label is not in the table). The test split is never touched.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
import pyarrow as pa

from distlm.data.fs import Storage, exists, resolve, to_uri
from distlm.data.readers.base import READERS
from distlm.data.readers.idx import load_idx
from distlm.data.image_column import tensor as image_tensor
from distlm.data.readers.schema import LABELLED, UNLABELLED, index_metadata, index_table
from distlm.data.report import ReadReport

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
FMNIST_CLASSES: Tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
PREFIX: Dict[str, str] = {"train": "train", "test": "t10k"}
SPLIT_CHOICES = ("all", "train", "test")


def _find(root_uri: str, name: str, storage: Storage) -> str:
    for cand in (f"{name}.gz", name):
        uri = f"{root_uri.rstrip('/')}/{cand}"
        if exists(uri, storage):
            return uri
    raise FileNotFoundError(f"{root_uri}: neither {name}.gz nor {name} found (Fashion-MNIST IDX files)")


def load_split(root_uri: str, split: str, storage: Storage = None) -> Tuple[np.ndarray, np.ndarray]:
    """``(images uint8 (N, 28, 28), labels uint8 (N,))`` of one split, checked."""
    ipath = _find(root_uri, f"{PREFIX[split]}-images-idx3-ubyte", storage)
    lpath = _find(root_uri, f"{PREFIX[split]}-labels-idx1-ubyte", storage)
    images, labels = load_idx(ipath, storage), load_idx(lpath, storage)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{ipath}: expected uint8 images (N, H, W), got {images.dtype} {images.shape}")
    if labels.ndim != 1:
        raise ValueError(f"{lpath}: expected labels (N,), got shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{ipath} has {len(images)} images but {lpath} has {len(labels)} labels")
    if labels.size and int(labels.max()) >= len(FMNIST_CLASSES):
        raise ValueError(f"{lpath}: label {int(labels.max())} outside 0..{len(FMNIST_CLASSES) - 1}")
    return images, labels


def labelled_subset(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Boolean mask of ``per_class`` indices per class, drawn with ``seed``.

    Classes are visited in increasing order with one generator, so the draw depends
    only on ``(labels, per_class, seed)``.
    """
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if per_class > len(idx):
            raise ValueError(f"labels_per_class={per_class} but class {int(c)} has only {len(idx)} images")
        keep[rng.choice(idx, size=per_class, replace=False)] = True
    return keep


def class_attributes(attributes: str) -> np.ndarray:
    """``(10, M)`` float32 0/1: the attribute vector of each class, from the
    formula set whose emotions are the classes in Fashion-MNIST order."""
    from distlm.formulas import load_formulas

    fs = load_formulas(attributes)
    if len(fs.emotions) != len(FMNIST_CLASSES):
        raise ValueError(f"fmnist attributes {attributes!r}: {len(fs.emotions)} formulas, "
                         f"expected one per class ({len(FMNIST_CLASSES)})")
    return (fs.matrix.t().numpy() > 0).astype(np.float32)


def attr_ids(attributes: str):
    from distlm.formulas import load_formulas

    return load_formulas(attributes).au_ids


@READERS.register("fmnist")
def read_fmnist(
    path: str = DEFAULT_DIR,
    *,
    split: str = "all",
    labels_per_class: Optional[int] = None,
    seed: int = 0,
    storage: Storage = None,
    strict: bool = False,
    attributes: Optional[str] = None,
) -> Tuple[pa.Table, ReadReport]:
    """Index Fashion-MNIST (``split`` all | train | test), images in the table.

    ``attributes``: a formula set (name or YAML path, e.g. ``fmnist_attributes``)
    whose formula for each class lists that class's binary attributes. Rows then
    carry ``au``/``au_mask`` (the attribute vector, all known) and the *train*
    rows lose their class label (-1): the multi-label transfer protocol, where the
    labelled set has attribute vectors only. Test rows keep their class.
    """
    if split not in SPLIT_CHOICES:
        raise ValueError(f"fmnist: split must be one of {SPLIT_CHOICES}, got {split!r}")
    if labels_per_class is not None and labels_per_class < 1:
        raise ValueError(f"fmnist: labels_per_class must be >= 1, got {labels_per_class}")
    fs, root = resolve(path, storage)
    root_uri = to_uri(fs, root)
    report = ReadReport(f"fmnist {root_uri}", strict=strict)
    cols: Dict[str, list] = {k: [] for k in ("id", "path", "label", "au", "au_mask", "domain", "split")}
    pixels = []
    attr = class_attributes(attributes) if attributes else None
    for name in (("train", "test") if split == "all" else (split,)):
        images, labels = load_split(root_uri, name, storage)
        lab = labels.astype(np.int32)
        domain = np.full(len(lab), LABELLED, dtype=object)
        if name == "train" and labels_per_class is not None:
            keep = labelled_subset(labels, labels_per_class, seed)
            lab = np.where(keep, lab, -1).astype(np.int32)
            domain[~keep] = UNLABELLED
            report.count("unlabelled", int((~keep).sum()))
        n = len(lab)
        cols["id"] += [f"fmnist/{name}/{i:05d}" for i in range(n)]
        cols["path"] += [None] * n
        if attr is None:
            cols["au"] += [None] * n
            cols["au_mask"] += [None] * n
        else:
            cols["au"] += attr[labels].tolist()
            cols["au_mask"] += np.ones_like(attr[labels], dtype=bool).tolist()
            if name == "train":  # the transfer protocol: attribute vectors only
                lab = np.full_like(lab, -1)
        cols["label"].append(lab)
        cols["domain"] += list(domain)
        cols["split"] += [name] * n
        pixels.append(images[..., None])
        report.count("rows", n)
    columns = dict(cols, label=np.concatenate(cols["label"]))
    table = index_table(
        columns,
        index_metadata("fmnist", FMNIST_CLASSES, attr_ids(attributes) if attributes else ()),
        extra={"image": image_tensor(np.concatenate(pixels))},
    )
    return table, report
