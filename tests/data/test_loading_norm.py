"""Normalisation statistics (streaming) and on-device normalisation."""
import json

import numpy as np
import pyarrow as pa
import pytest
import torch

from distlm.data.loading import NormStats, compute_norm_stats, load_norm_stats, normalize, save_norm_stats


def images(n=50, h=9, w=7, c=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, h, w, c), dtype=np.uint8)
    x[..., 0] //= 2  # planes with different statistics
    return x


def test_stats_equal_numpy_over_chunks():
    x = images()
    stats = compute_norm_stats([x[:13], torch.from_numpy(x[13:40]), *x[40:]])  # batches, a tensor, single images
    flat = x.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(stats.mean, flat.mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.std, flat.std(0), rtol=1e-10)
    assert stats.count == 50 * 9 * 7


def test_stats_from_arrow_tensor_column():
    x = images(c=1)
    table = pa.table({"image": pa.FixedShapeTensorArray.from_numpy_ndarray(x)})
    stats = compute_norm_stats(table)
    np.testing.assert_allclose(stats.mean, [x.mean()], rtol=1e-12)
    np.testing.assert_allclose(stats.std, [x.astype(np.float64).std()], rtol=1e-10)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="uint8"):
        compute_norm_stats([np.zeros((2, 3, 3, 3), np.float32)])
    with pytest.raises(ValueError, match="no images"):
        compute_norm_stats([])
    with pytest.raises(ValueError, match="constant"):
        compute_norm_stats([np.full((2, 3, 3, 1), 4, np.uint8)])


def test_json_round_trip_beside_crops(tmp_path):
    stats = compute_norm_stats([images()])
    written = save_norm_stats(stats, str(tmp_path / "crops"))
    assert written.endswith("crops/norm_stats.json")
    assert load_norm_stats(str(tmp_path / "crops")) == stats
    (tmp_path / "bad.json").write_text(json.dumps({"mean": [1.0]}))
    with pytest.raises(ValueError, match="bad.json"):
        load_norm_stats(str(tmp_path / "bad.json"))
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_norm_stats(str(tmp_path / "nowhere"))


def test_normalize_layout_and_values():
    x = images(n=4)
    stats = compute_norm_stats([x])
    y = normalize(torch.from_numpy(x), stats.mean, stats.std)
    assert y.shape == (4, 3, 9, 7) and y.dtype == torch.float32
    expected = (x.astype(np.float64) - np.array(stats.mean)) / np.array(stats.std)
    np.testing.assert_allclose(y.permute(0, 2, 3, 1).numpy(), expected, rtol=1e-5, atol=1e-5)
    per_plane = y.permute(1, 0, 2, 3).reshape(3, -1)
    np.testing.assert_allclose(per_plane.mean(1).numpy(), 0, atol=1e-5)
    np.testing.assert_allclose(per_plane.std(1, unbiased=False).numpy(), 1, atol=1e-5)
    with pytest.raises(ValueError, match="channels"):
        normalize(torch.from_numpy(x), [0.0], [1.0])


def test_unit_stats_rescale_to_unit_interval():
    s = NormStats.unit(1)
    y = normalize(torch.tensor([[[[0], [255]]]], dtype=torch.uint8), s.mean, s.std)
    assert y.flatten().tolist() == [0.0, 1.0]
