"""The test set is split across the trainer's workers (``ray_datasets.data_config``):
on a local Ray Train run with 2 workers, every test row is evaluated by exactly one
worker, and the all-reduced metrics equal one worker's evaluation of the whole set."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pytest
import torch

from distlm.data.loading import NormStats
from distlm.train.evaluate import evaluate

pytestmark = pytest.mark.slow
ROWS, CLASSES = 37, 3
SPEC = SimpleNamespace(scenario="ssl", num_outputs=CLASSES)
NORM = NormStats(mean=(0.0,), std=(1.0,))


def _images() -> np.ndarray:
    """``(ROWS, 8, 8, 1) uint8``: pixel (0, 0) is the row id, pixel (0, 1) the predicted class."""
    images = np.random.default_rng(0).integers(0, 255, (ROWS, 8, 8, 1), dtype=np.uint8)
    images[:, 0, 0, 0] = np.arange(ROWS)
    images[:, 0, 1, 0] = (np.arange(ROWS) * 7 // 5) % CLASSES
    return images


class PixelModel(torch.nn.Module):
    """Predicts the class written in pixel (0, 1): logits exact, whatever the batch."""

    embedding_dim = CLASSES

    def forward(self, x: torch.Tensor):
        from distlm.models.output import ModelOutput

        onehot = torch.nn.functional.one_hot(x[:, 0, 0, 1].round().long() % CLASSES, CLASSES).float()
        return ModelOutput(embedding=onehot + 0.5, logits=4.0 * onehot)


def _dataset(ray):
    from ray.data.extensions import ArrowTensorArray

    images = _images()
    table = pa.table({"image": ArrowTensorArray.from_numpy(images),
                      "label": pa.array(np.arange(ROWS) % CLASSES, pa.int64())})
    return ray.data.from_arrow([table.slice(i, 5) for i in range(0, ROWS, 5)])   # 8 blocks, the last of 2 rows


def _evaluate_share(config) -> None:
    import ray.train

    from distlm.data.sources import test_batches

    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    batches = list(test_batches(None, rank, world, batch_size=4, shard=ray.train.get_dataset_shard("test")))
    got = evaluate(config["model"], batches, config["spec"], config["norm"], "cpu")
    ids = [int(i) for b in batches for i in b["images"][:, 0, 0, 0]]
    Path(config["out"], f"rank{rank}.json").write_text(json.dumps({"ids": ids, "metrics": got}))


def test_every_test_row_is_evaluated_once_and_the_sums_equal_one_worker(ray_shared, tmp_path):
    import ray.train
    from ray.train.torch import TorchConfig, TorchTrainer

    from ray import cloudpickle

    from distlm.config.schema import JobSpec
    from distlm.data.ray_datasets import data_config

    cloudpickle.register_pickle_by_value(sys.modules[__name__])   # the workers cannot import this file
    assert not JobSpec().data.deterministic_reads                   # the default: unordered reads
    trainer = TorchTrainer(
        _evaluate_share,
        train_loop_config={"model": PixelModel(), "spec": SPEC, "norm": NORM, "out": str(tmp_path)},
        scaling_config=ray.train.ScalingConfig(num_workers=2, resources_per_worker={"CPU": 1}),
        run_config=ray.train.RunConfig(name="split_test", storage_path=str(tmp_path / "runs")),
        datasets={"test": _dataset(ray_shared)}, dataset_config=data_config(JobSpec()),
        torch_config=TorchConfig(backend="gloo"))
    result = trainer.fit()
    assert result.error is None, result.error

    shares = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    ids = shares[0]["ids"] + shares[1]["ids"]
    assert sorted(ids) == list(range(ROWS))                    # every row once: none dropped, none twice
    images = _images()
    whole = evaluate(PixelModel(), [{"images": images, "labels": np.arange(ROWS) % CLASSES}], SPEC, NORM, "cpu")
    for share in shares:                                        # both ranks hold the all-reduced metrics
        m = share["metrics"]
        assert m["num_samples"] == whole["num_samples"] == ROWS
        assert m["acc"] == whole["acc"] and m["avg_acc"] == whole["avg_acc"]   # ratios of the same integer counts
        for key in set(whole) - {"num_samples", "acc", "avg_acc"}:
            assert m[key] == pytest.approx(whole[key], rel=1e-9, abs=1e-12), key
