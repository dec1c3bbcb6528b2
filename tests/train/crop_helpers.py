"""Tiny face-crop datasets for the crop-path trainer tests (local and S3): images
whose colour depends on the class, in class folders, and a small job spec."""
import numpy as np
import yaml
from PIL import Image

CLASSES = ["surprise", "fear", "disgust", "happiness", "sadness", "anger", "neutral"]
USED = {"happiness": 3, "sadness": 4, "anger": 5}   # folder -> label (index in CLASSES)


def _image(rng, label: int, path) -> None:
    """A 40x48 RGB image whose colour depends on the label, plus noise."""
    base = np.array([40 + 30 * label, 200 - 25 * label, 90], np.float32)
    img = np.clip(base + rng.normal(0, 25, (40, 48, 3)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)


def _job(path, data: dict, **extra) -> str:
    """A tiny version of jobs/rafdb/lm_ssl.yaml (expressions, LM loss, EMA centroids, SSL)."""
    spec = {
        "name": "crops-lm-ssl", "scenario": "expressions", "seed": 0,
        "data": {"image_size": 32, "channels": 3, "class_names": CLASSES, "unlabelled_ratio": 1.0, **data},
        "model": {"name": "small_cnn", "embedding_dim": 16, "head": "softmax",
                  "options": {"width": 8, "norm": "group"}},
        "loss": {"supervised": "ce", "aux": "lm", "centroids": "ema", "ema_momentum": 0.9,
                 "weighting": {"mode": "auto", "ratio": 0.8, "warmup_steps": 0}},
        "selflabel": {"enabled": True, "threshold": None},
        "optim": {"name": "adam", "lr": 0.003},
        "train": {"epochs": 2, "batch_size": 16, "steps_per_epoch": 3, "eval_every": 1, "log_every": 100},
        "scaling": {"num_workers": 2, "use_gpu": False, "cpus_per_worker": 1, "gpus_per_worker": 0},
        "run": {"storage_path": "runs", "checkpoint_every": 1, "keep": 1},
        "telemetry": {"metrics_port": 0},
        **extra,
    }
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def image_tree(root, rng, per_class: int, test_per_class: int, pool: int, pool_label) -> None:
    """``root/lab/<class>/``, ``root/test/<class>/`` and an unlabelled ``root/pool/``;
    ``pool_label(rng)`` picks the colour class of each pool image."""
    for cls, label in USED.items():
        for i in range(per_class):
            _image(rng, label, root / "lab" / cls / f"{i:02d}.png")
        for i in range(test_per_class):
            _image(rng, label, root / "test" / cls / f"t{i}.png")
    for i in range(pool):
        _image(rng, pool_label(rng), root / "pool" / f"u{i:02d}.jpg")
