"""What the trainer hands the Ray (Parquet crops) loader path, without Ray running:
``data.shuffle_buffer`` reaches the loader (0 = shard order). That the crops are read
through the driver-listed Parquet datasource is checked on a real read in
``test_train_crops.py``."""
import pytest
import torch

from distlm.data.loading.norm import NormStats
from distlm.data import sources as train_data

from train_helpers import job


@pytest.mark.parametrize("buffer, expected", [(1024, 1024), (64, 64), (0, None)])
def test_shuffle_buffer_reaches_the_ray_loader(monkeypatch, buffer, expected):
    seen = {}

    def fake_make_ray_loader(lspec, pipeline=None, shuffle_buffer="unset"):
        seen.update(lspec=lspec, shuffle_buffer=shuffle_buffer)
        return "loader"

    monkeypatch.setattr(train_data, "make_ray_loader", fake_make_ray_loader)
    spec = job("fmnist/lm_ssl_ema.yaml", f"data.shuffle_buffer={buffer}")
    norm = NormStats(mean=(0.5,), std=(0.25,), count=1)
    out = train_data.make_loader(spec, 1, 2, torch.device("cpu"), norm, memory=None, with_unlabelled=True)
    assert out == "loader"
    assert seen["shuffle_buffer"] == expected
    assert (seen["lspec"].rank, seen["lspec"].world_size, seen["lspec"].seed) == (1, 2, spec.seed)


def test_default_buffer_is_1024_rows():
    assert job("fmnist/lm_ssl_ema.yaml").data.shuffle_buffer == 1024
