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

from distlm.config import load_job
from distlm.evaluate.run import evaluate_checkpoint, eval_batches
from distlm.checkpoint.state import load_state
from distlm.data.sources import RawImagesError, read_memory
from distlm.data.ray_datasets import ray_datasets
from distlm.train.driver import build_trainer

from crop_helpers import CLASSES, USED, _image, _job, image_tree

pytestmark = pytest.mark.slow
RAF_TRAIN, RAF_TEST = 12, 5


@pytest.fixture(scope="module")
def crops(ray_shared, tmp_path_factory):
    from distlm.prepare.__main__ import main as prepare_main

    root = tmp_path_factory.mktemp("crops")
    rng = np.random.default_rng(0)
    image_tree(root, rng, 14, 3, 24, lambda r: int(r.integers(3, 6)))
    lines = []
    for n, kind in [(RAF_TRAIN, "train"), (RAF_TEST, "test")]:
        for i in range(n):
            label = 1 + (i % 3 if kind == "train" else 6)   # test rows: all "neutral"
            name = f"{kind}_{i:05d}.jpg"
            lines.append(f"{name} {label}")
            _image(rng, label - 1, root / "raf" / "Image" / "original" / name)
    (root / "raf" / "EmoLabel").mkdir(parents=True)
    (root / "raf" / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")

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
           "job": str(root / "prepared" / "job.yaml"),   # written by prepare: the raw job on its crops
           "hand_job": _job(root / "job.yaml", parquet),
           "raf_job": _job(root / "raf.yaml", rafq, selflabel={"enabled": False})}


@pytest.fixture(scope="module")
def trained(crops):
    spec = load_job(crops["job"], [f"run.storage_path={crops['root'] / 'runs'}"])
    result = build_trainer(spec).fit()
    assert result.error is None, result.error
    return spec, result


def test_prepare_wrote_the_job_on_its_crops(crops):
    """``DST/job.yaml`` is the raw job with each source replaced by its shards, nothing else."""
    from distlm.config import spec_to_dict

    written, hand = spec_to_dict(load_job(crops["job"])), spec_to_dict(load_job(crops["hand_job"]))
    for role in ("labelled", "unlabelled", "test"):
        assert written["data"][role] == {"format": "parquet", "path": str(crops["root"] / "prepared" / role),
                                         "options": {}}
    assert written == hand


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
    cols = {k: d.select_columns(["label"]) for k, d in dsets.items()}
    labels = {k: sorted(r["label"] for r in c.take_all()) for k, c in cols.items()}
    assert sorted(labels) == ["labelled", "test"]
    # listed on the driver (Ray's V1 Parquet datasource), not by a pool of footer actors per read
    stats = cols["test"].stats()
    assert "ReadParquet" in stats and "ListFiles" not in stats, stats
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


def test_the_resolved_budget_is_stored_with_the_run(trained, crops):
    """The driver counts the labelled rows from the split column; rank 0 writes the budget."""
    spec, _ = trained
    from distlm.train.run_folder import run_file

    with open(run_file(spec, "budget.json")) as f:
        budget = json.load(f)
    assert budget["rows"] == 14 * len(USED) and budget["global_batch"] == 8
    assert budget["steps_per_epoch"] == 3 and budget["total_steps"] == 6 and budget["side"] == "labelled"
