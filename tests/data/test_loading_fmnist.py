"""Real data: the Fashion-MNIST reader's table feeds the in-memory loader."""
import os

import numpy as np
import pytest
import torch

FMNIST = "/usr/share/datasets/fashion-mnist"
pytestmark = pytest.mark.skipif(not os.path.exists(f"{FMNIST}/train-images-idx3-ubyte.gz"),
                                reason="apt-get install -y dataset-fashion-mnist")


def test_fmnist_reader_table_to_batches():
    from distlm.data.loading import LOADERS, DevicePipeline, LoaderSpec, compute_norm_stats, domain_arrays
    from distlm.data.readers.base import read_index

    table, _ = read_index("fmnist", FMNIST, split="train", labels_per_class=100, seed=0)
    lab = domain_arrays(table, "fmnist", domain="labelled")
    unl = domain_arrays(table, "fmnist", domain="unlabelled")
    assert lab.images.shape == (1000, 28, 28, 1) and len(unl) == 59000
    assert np.bincount(lab.labels, minlength=10).tolist() == [100] * 10 and (unl.labels == -1).all()
    stats = compute_norm_stats([lab.images, unl.images])
    all_px = np.concatenate([lab.images, unl.images]).astype(np.float64)
    np.testing.assert_allclose(stats.mean, [all_px.mean()], rtol=1e-9)
    spec = LoaderSpec(batch_size=64, unlabelled_ratio=3.0, rank=1, world_size=2, seed=0)
    loader = LOADERS.create("memory", labelled=lab, unlabelled=unl, spec=spec,
                            pipeline=DevicePipeline(norm=stats, augment_labelled="crop_flip"))
    assert loader.steps_per_epoch == 1000 // 16
    b = next(iter(loader.epoch(0)))
    assert b.x_l.shape == (8, 1, 28, 28) and b.x_u.shape == (24, 1, 28, 28)
    assert set(b.y_l.tolist()) <= set(range(10)) and b.x_u.dtype == torch.float32
    assert abs(float(b.x_u.mean())) < 0.5  # normalised
