"""The card's command on raw images: ``python -m distlm.train JOB.yaml`` whose sources are
class folders and an image pool crops them into the crop cache as its first stage, then
trains on the crops (2 Ray Train workers, local Ray). A second stage reuses every crop
and crops only images added since; inputs removed from the source leave the cache."""
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from distlm.config import load_job
from distlm.prepare import read_manifest, read_summary
from distlm.train.__main__ import main as train_main
from distlm.data.sources import raw_sources
from distlm.train.crop_stage import crop_sources, source_folder

from crop_helpers import USED, _image, _job, image_tree

pytestmark = pytest.mark.slow
PER_CLASS, TEST_PER_CLASS, POOL = 14, 3, 24


@pytest.fixture(scope="module")
def raw(ray_shared, tmp_path_factory):
    root = tmp_path_factory.mktemp("raw")
    image_tree(root, np.random.default_rng(0), PER_CLASS, TEST_PER_CLASS, POOL, lambda r: int(r.integers(3, 6)))
    folder = {"format": "folder", "path": str(root / "lab"), "options": {"classes": list(USED)}}
    data = {"labelled": folder, "unlabelled": {"format": "images", "path": str(root / "pool")},
            "test": {"format": "folder", "path": str(root / "test"), "options": {"classes": list(USED)}},
            "crop": {"detector": "none", "shard_size": 8, "max_actors": 2}}
    job = _job(root / "raw.yaml", data, run={"storage_path": str(root / "runs"), "checkpoint_every": 1, "keep": 1})
    return root, job


@pytest.fixture(scope="module")
def trained(raw):
    root, job = raw
    assert train_main([job]) == 0
    return load_job(job)


def test_the_card_command_crops_then_trains(raw, trained):
    root, _ = raw
    spec = trained
    folders = {side: source_folder(spec, side, src) for side, src in raw_sources(spec)}
    assert all(f.startswith(str(root / "runs" / "crops")) for f in folders.values())
    expected = {"labelled": PER_CLASS * len(USED), "unlabelled": POOL, "test": TEST_PER_CLASS * len(USED)}
    for side, folder in folders.items():
        summary = read_summary(folder)
        assert summary["inputs"] == summary["written"] == expected[side], (side, summary)
        assert len(read_manifest(folder)) == expected[side]
    saved = next((root / "runs").glob("*/job.yaml"))
    sides = yaml.safe_load(saved.read_text())["data"]
    assert {sides[s]["format"] for s in expected} == {"parquet"}     # the run's job reads the crops
    assert {sides[s]["path"] for s in expected} == set(folders.values())
    assert list((root / "runs").glob("*/checkpoint_*")), "no checkpoint written"
    progress = json.loads(next((root / "runs").glob("*/progress.json")).read_text())
    assert progress["step"] == progress["total"] == 6


def test_a_second_stage_reuses_and_crops_only_new_images(raw, trained):
    root, _ = raw
    spec = trained
    pool = source_folder(spec, "unlabelled", spec.data.unlabelled)
    shards_before = {p.name for p in (root / "runs" / "crops").rglob("part-*.parquet")}
    crop_sources(spec)
    again = read_summary(pool)
    assert again["reused"] == POOL and again["cropped"] == 0
    assert {p.name for p in (root / "runs" / "crops").rglob("part-*.parquet")} == shards_before
    rng = np.random.default_rng(1)
    for i in range(3):
        _image(rng, 3, root / "pool" / "new" / f"n{i}.jpg")
    (root / "pool" / "u00.jpg").unlink()
    crop_sources(spec)
    grown = read_summary(pool)
    assert grown["cropped"] == 3 and grown["reused"] == POOL - 1 and grown["inputs"] == POOL + 2
    ids = [r["id"] for r in read_manifest(pool)]
    assert len(ids) == len(set(ids)) == POOL + 2 and "u00.jpg" not in ids and "new/n0.jpg" in ids
    crops = pq.read_table(pool, columns=["id"]).column("id").to_pylist()   # what training reads
    assert sorted(crops) == sorted(ids)
