"""The ``ray`` loader path end to end on face crops written by ``distlm.prepare``.

One Ray session for the module. ``python -m distlm.prepare JOB --detector none``
crops a tiny expressions job (class folders + an image pool + a test folder, 32x32);
the job, pointed at the shards (``format: parquet``), trains LM SSL with 2 CPU
workers for 2 epochs through ``build_trainer(spec).fit()`` and is evaluated with
``distlm.evaluate``. A RAF-DB-style tree (rows tagged ``split: train|test``) checks
that labelled/test sources on the same index get disjoint rows on both paths, and a
job on raw images fails fast.
"""
import json

import numpy as np
import pytest
import ray
import yaml
from PIL import Image

from distlm.config import load_job
from distlm.evaluate.run import evaluate_checkpoint, eval_batches
from distlm.train.checkpoint import load_state
from distlm.train.data import RawImagesError, read_memory
from distlm.train.driver import build_trainer, ray_datasets

pytestmark = pytest.mark.slow
CLASSES = ["surprise", "fear", "disgust", "happiness", "sadness", "anger", "neutral"]
USED = {"happiness": 3, "sadness": 4, "anger": 5}   # folder -> label (index in CLASSES)
RAF_TRAIN, RAF_TEST = 12, 5


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


@pytest.fixture(scope="module")
def crops(tmp_path_factory):
    from distlm.prepare.__main__ import main as prepare_main

    root = tmp_path_factory.mktemp("crops")
    rng = np.random.default_rng(0)
    for cls, label in USED.items():
        for i in range(14):
            _image(rng, label, root / "lab" / cls / f"{i:02d}.png")
        for i in range(3):
            _image(rng, label, root / "test" / cls / f"t{i}.png")
    for i in range(24):
        _image(rng, int(rng.integers(3, 6)), root / "pool" / f"u{i:02d}.jpg")
    lines = []
    for n, kind in [(RAF_TRAIN, "train"), (RAF_TEST, "test")]:
        for i in range(n):
            label = 1 + (i % 3 if kind == "train" else 6)   # test rows: all "neutral"
            name = f"{kind}_{i:05d}.jpg"
            lines.append(f"{name} {label}")
            _image(rng, label - 1, root / "raf" / "Image" / "original" / name)
    (root / "raf" / "EmoLabel").mkdir(parents=True)
    (root / "raf" / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")

    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    folder = {"format": "folder", "path": str(root / "lab"), "options": {"classes": CLASSES}}
    raw = {"labelled": folder, "unlabelled": {"format": "images", "path": str(root / "pool")},
           "test": {"format": "folder", "path": str(root / "test"), "options": {"classes": CLASSES}}}
    raw_job = _job(root / "raw.yaml", raw)
    raf = {"format": "rafdb", "path": str(root / "raf"), "options": {"variant": "original"}}
    raf_raw_job = _job(root / "raf_raw.yaml", {"labelled": raf, "test": raf}, selflabel={"enabled": False})
    for job, out in ((raw_job, "prepared"), (raf_raw_job, "raf_prepared")):
        assert prepare_main([job, "--output", str(root / out), "--detector", "none", "--shard-size", "16"]) == 0
    parquet = {side: {"format": "parquet", "path": str(root / "prepared" / side)} for side in raw}
    rafq = {side: {"format": "parquet", "path": str(root / "raf_prepared" / side)} for side in ("labelled", "test")}
    yield {"root": root, "raw_job": raw_job,
           "job": _job(root / "job.yaml", parquet),
           "raf_job": _job(root / "raf.yaml", rafq, selflabel={"enabled": False})}
    ray.shutdown()


@pytest.fixture(scope="module")
def trained(crops):
    spec = load_job(crops["job"], [f"run.storage_path={crops['root'] / 'runs'}"])
    result = build_trainer(spec).fit()
    assert result.error is None, result.error
    return spec, result


def test_prepare_wrote_binary_image_shards(crops):
    import pyarrow as pa
    import pyarrow.dataset as pads

    ds = pads.dataset(str(crops["root"] / "prepared" / "labelled"), format="parquet")
    field = ds.schema.field("image")
    assert field.type == pa.binary(32 * 32 * 3)
    assert json.loads(field.metadata[b"distlm.shape"]) == [32, 32, 3]
    assert ds.count_rows() == 14 * len(USED)


def test_ray_path_trains_checkpoints_and_reports_metrics(trained):
    spec, result = trained
    state = load_state(result.checkpoint.path)
    assert state["epoch"] == 2 and state["step"] == 2 * 3
    assert result.metrics["epoch"] == 2 and 0.0 <= result.metrics["test_acc"] <= 1.0
    assert len(state["history"]["eval"]) == 2
    assert all(np.isfinite(state["history"]["loss"])) and len(state["history"]["loss"]) == 6
    assert state["objective"]["aux.centroids.present"][[3, 4, 5]].all()
    assert not np.allclose(state["norm"]["std"], 255.0)   # stats of the crops, not the unit default


def test_evaluate_reads_the_parquet_test_set(trained, crops, tmp_path):
    spec, result = trained
    out = evaluate_checkpoint(result.checkpoint.path, spec, str(tmp_path / "eval"))
    assert 0.0 <= out["row"]["acc"] <= 1.0
    with open(tmp_path / "eval" / "metrics.json") as f:
        assert json.load(f)["row"]["acc"] == out["row"]["acc"]
    rows = sum(len(b["labels"]) for b in eval_batches(spec)())
    assert rows == 3 * len(USED)


def test_same_index_gives_train_rows_to_training_and_test_rows_to_test(crops):
    spec = load_job(crops["raf_job"])
    dsets = ray_datasets(spec, with_unlabelled=True)
    labels = {k: sorted(r["label"] for r in d.select_columns(["label"]).take_all()) for k, d in dsets.items()}
    assert sorted(labels) == ["labelled", "test"]
    assert labels["labelled"] == sorted((i % 3) for i in range(RAF_TRAIN))
    assert labels["test"] == [6] * RAF_TEST
    memory = read_memory(spec, with_unlabelled=False)           # the memory path filters alike
    assert sorted(memory.labelled.labels.tolist()) == labels["labelled"]
    assert memory.test.labels.tolist() == [6] * RAF_TEST
    assert sum(len(b["labels"]) for b in eval_batches(spec)()) == RAF_TEST   # and evaluate


def test_raw_image_sources_fail_fast_naming_prepare(crops):
    spec = load_job(crops["raw_job"])
    with pytest.raises(RawImagesError, match=r"python -m distlm.prepare JOB.yaml --output DST.*format: parquet"):
        build_trainer(spec)
