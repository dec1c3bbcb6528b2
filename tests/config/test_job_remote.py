"""Specs on fsspec URLs (s3:// in production; memory:// here): save, load, extends."""
from __future__ import annotations

import uuid

import fsspec
import yaml

from distlm.config import load_job, save_job

BASE = {"name": "b", "data": {"labelled": {"format": "fmnist", "path": "/tmp/fm"}, "image_size": 28,
                              "channels": 1, "class_names": ["a", "b"]}}


def test_save_load_and_extends_on_a_url() -> None:
    root = f"memory://distlm-test-{uuid.uuid4().hex}"
    fs = fsspec.filesystem("memory")
    try:
        with fsspec.open(f"{root}/jobs/base.yaml", "w") as fh:
            fh.write(yaml.safe_dump(BASE))
        with fsspec.open(f"{root}/jobs/rows/child.yaml", "w") as fh:
            fh.write(yaml.safe_dump({"extends": "../base.yaml", "train": {"epochs": 4}}))
        spec = load_job(f"{root}/jobs/rows/child.yaml")
        assert (spec.name, spec.train.epochs, spec.data.image_size) == ("b", 4, 28)
        save_job(spec, f"{root}/runs/job.yaml")
        assert load_job(f"{root}/runs/job.yaml") == spec
    finally:
        fs.rm(root.removeprefix("memory://"), recursive=True)
