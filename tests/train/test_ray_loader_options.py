"""What the trainer hands the Ray (Parquet crops) loader path, without Ray running:
``data.shuffle_buffer`` reaches the loader as rows (0 = shard order, ``auto`` = the
``data.shuffle_buffer_mb`` budget over the sides read). That the crops are read
through the driver-listed Parquet datasource is checked on a real read in
``test_train_crops.py``."""
import pytest
import torch

from distlm.data.loading.norm import NormStats
from distlm.data import sources as train_data

from train_helpers import job

MIB = 1 << 20


@pytest.mark.parametrize("overrides, expected", [
    (["data.shuffle_buffer=1024"], 1024), (["data.shuffle_buffer=64"], 64), (["data.shuffle_buffer=0"], None),
    # the fmnist job: 28x28x1 crops, labelled and unlabelled sides share the budget
    ([], 1024 * MIB // (2 * 28 * 28)), (["data.shuffle_buffer_mb=1"], MIB // (2 * 28 * 28)),
    (["data.shuffle_buffer=auto", "data.unlabelled_ratio=0"], 1024 * MIB // (28 * 28)),
])
def test_shuffle_buffer_reaches_the_ray_loader(monkeypatch, overrides, expected):
    seen = {}

    def fake_make_ray_loader(lspec, pipeline=None, shuffle_buffer="unset"):
        seen.update(lspec=lspec, shuffle_buffer=shuffle_buffer)
        return "loader"

    monkeypatch.setattr(train_data, "make_ray_loader", fake_make_ray_loader)
    spec = job("fmnist/lm_ssl_ema.yaml", *overrides)
    assert (spec.data.image_size, spec.data.channels) == (28, 1)
    norm = NormStats(mean=(0.5,), std=(0.25,), count=1)
    out = train_data.make_loader(spec, 1, 2, torch.device("cpu"), norm, memory=None, with_unlabelled=True)
    assert out == "loader"
    assert seen["shuffle_buffer"] == expected
    assert (seen["lspec"].rank, seen["lspec"].world_size, seen["lspec"].seed) == (1, 2, spec.seed)


def test_defaults_are_a_memory_sized_buffer_and_unordered_reads():
    data = job("fmnist/lm_ssl_ema.yaml").data
    assert (data.shuffle_buffer, data.shuffle_buffer_mb, data.deterministic_reads) == ("auto", 1024, False)
