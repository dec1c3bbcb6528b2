"""S3 end to end on a loopback ``moto_server``, on the shared Ray session, one run:

``distlm.prepare`` reads the images of a job from ``s3://`` and writes its shards
there; ``train`` reads the shards and writes checkpoints and the resolved spec to
``s3://`` (``run.storage_path``, endpoint ``data.storage.endpoint_url``); ``evaluate``
fetches the checkpoint from S3. Credentials come from the environment only.
"""
import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
from fixtures_readers import s3_storage  # noqa: E402,F401  (fixture: moto_server on 127.0.0.1)
from crop_helpers import CLASSES, USED, _job, image_tree  # noqa: E402

from distlm.config import load_job  # noqa: E402
from distlm.data.fs import resolve  # noqa: E402

pytestmark = pytest.mark.slow
BUCKET = "distlm-e2e"


@pytest.fixture(scope="module")
def s3_run(tmp_path_factory, s3_storage, ray_shared):  # noqa: F811
    from distlm.evaluate.run import evaluate_checkpoint
    from distlm.prepare.__main__ import main as prepare_main
    from distlm.train.driver import build_trainer, save_resolved_spec

    root = tmp_path_factory.mktemp("s3")
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID=s3_storage["key"], AWS_SECRET_ACCESS_KEY=s3_storage["secret"])
    storage = {"endpoint_url": s3_storage["endpoint_url"], "region": s3_storage["region"]}
    fs, _ = resolve(f"s3://{BUCKET}", storage)
    boto3 = pytest.importorskip("boto3")
    boto3.client("s3", endpoint_url=storage["endpoint_url"], region_name=storage["region"]).create_bucket(Bucket=BUCKET)
    rng = np.random.default_rng(1)
    local = root / "images"
    image_tree(local, rng, 8, 2, 12, lambda r: 4)
    for p in sorted(local.rglob("*")):
        if p.is_file():
            fs.pipe_file(f"{BUCKET}/images/{p.relative_to(local).as_posix()}", p.read_bytes())
    s3 = f"s3://{BUCKET}"
    common = {"storage": {"endpoint_url": storage["endpoint_url"], "region": storage["region"]}}
    raw = {"labelled": {"format": "folder", "path": f"{s3}/images/lab", "options": {"classes": CLASSES}},
           "unlabelled": {"format": "images", "path": f"{s3}/images/pool"},
           "test": {"format": "folder", "path": f"{s3}/images/test", "options": {"classes": CLASSES}}}
    crops = {side: {"format": "parquet", "path": f"{s3}/crops/{side}"} for side in raw}
    job = _job(root / "job.yaml", {**crops, **common},
               train={"epochs": 1, "batch_size": 12, "steps_per_epoch": 2, "eval_every": 1, "log_every": 100},
               run={"storage_path": f"{s3}/runs", "checkpoint_every": 1, "keep": 1})

    # the shared Ray's workers carry the same (fake) credentials: tests/conftest.py
    assert ray_shared.is_initialized()
    try:
        rc = prepare_main([_job(root / "raw.yaml", {**raw, **common}), "--output", f"{s3}/crops",
                           "--detector", "none"])
        assert rc == 0
        spec = load_job(job)
        spec_path = save_resolved_spec(spec)
        result = build_trainer(spec).fit()
        assert result.error is None, result.error
        ckpt = result.checkpoint.path
        ckpt = ckpt if ckpt.startswith("s3://") else f"s3://{ckpt}"
        evaluated = evaluate_checkpoint(ckpt, spec, str(root / "eval"))
        yield {"fs": fs, "spec": spec, "spec_path": spec_path, "result": result, "ckpt": ckpt,
               "eval": evaluated, "root": root}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_prepare_wrote_shards_and_summary_to_s3(s3_run):
    fs = s3_run["fs"]
    for side, n in (("labelled", 8 * len(USED)), ("test", 2 * len(USED)), ("unlabelled", 12)):
        summary = json.loads(fs.cat_file(f"{BUCKET}/crops/{side}/_summary.json"))
        assert summary["inputs"] == n and summary["written"] == n, side
        assert fs.glob(f"{BUCKET}/crops/{side}/part-*.parquet"), side


def test_train_wrote_checkpoint_and_spec_to_s3(s3_run):
    fs, result = s3_run["fs"], s3_run["result"]
    assert s3_run["spec_path"].startswith("s3://") and fs.exists(s3_run["spec_path"][5:])
    assert s3_run["ckpt"].startswith(f"s3://{BUCKET}/runs/")
    assert fs.exists(s3_run["ckpt"][5:] + "/state.pt") or fs.glob(s3_run["ckpt"][5:] + "/*")
    assert result.metrics["epoch"] == 1 and result.metrics["step"] == 2
    assert 0.0 <= result.metrics["test_acc"] <= 1.0


def test_evaluate_fetched_the_checkpoint_from_s3(s3_run):
    out = s3_run["eval"]
    assert 0.0 <= out["row"]["acc"] <= 1.0
    with open(s3_run["root"] / "eval" / "metrics.json") as f:
        saved = json.load(f)
    assert saved["epoch"] == 1 and saved["step"] == 2
    assert out["row"]["acc"] == pytest.approx(s3_run["result"].metrics["test_acc"])


def test_prepare_wrote_the_job_on_its_crops_to_s3(s3_run):
    """``prepare JOB --output s3://...`` leaves ``s3://.../job.yaml`` (written with the
    job's storage options), its sources on the S3 shards and its storage the job's."""
    local = s3_run["root"] / "prepared-job.yaml"
    local.write_bytes(s3_run["fs"].cat_file(f"{BUCKET}/crops/job.yaml"))
    spec = load_job(str(local))
    for role in ("labelled", "unlabelled", "test"):
        src = getattr(spec.data, role)
        assert (src.format, src.path, src.options) == ("parquet", f"s3://{BUCKET}/crops/{role}", {})
    assert spec.data.storage == s3_run["spec"].data.storage
