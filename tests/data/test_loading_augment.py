"""Batch augmentations: shapes, determinism under a generator, flips, crops, cutout."""
import pytest
import torch
import torch.nn.functional as F

from distlm.data.loading import AUGMENTATIONS, resolve_augment
from distlm.data.loading.augment_ops import hflip, random_crop
from distlm.data.loading.strong_ops import cutout, random_affine


def batch(b=16, c=3, h=12, w=10, seed=0):
    return torch.randn(b, c, h, w, generator=torch.Generator().manual_seed(seed))


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", AUGMENTATIONS.list())
def test_every_augmentation_keeps_shape_and_is_deterministic(name):
    aug = resolve_augment(name)
    x = batch()
    a, b = aug(x, gen(1)), aug(x, gen(1))
    assert a.shape == x.shape and a.dtype == x.dtype and torch.isfinite(a).all()
    assert torch.equal(a, b)
    if name != "none":
        assert not torch.equal(a, aug(x, gen(2)))
        assert not torch.equal(a, x)


@pytest.mark.parametrize("name", AUGMENTATIONS.list())
def test_every_augmentation_handles_one_channel(name):
    x = batch(c=1)
    assert resolve_augment(name)(x, gen(0)).shape == x.shape


def test_unknown_name_lists_known():
    with pytest.raises(KeyError, match="crop_flip"):
        resolve_augment("nope")


def test_flip_flips_per_sample():
    x = batch(b=64)
    assert torch.equal(hflip(x, gen(0), p=1.0), x.flip(-1))
    assert torch.equal(hflip(x, gen(0), p=0.0), x)
    y = hflip(x, gen(0), p=0.5)
    flipped = torch.tensor([torch.equal(y[i], x[i].flip(-1)) for i in range(64)])
    kept = torch.tensor([torch.equal(y[i], x[i]) for i in range(64)])
    assert (flipped | kept).all() and 0 < flipped.sum() < 64


def test_crop_is_a_window_of_the_reflect_padded_image():
    x, pad = batch(b=8), 3
    y = random_crop(x, gen(4), padding=pad)
    padded = F.pad(x, (pad,) * 4, mode="reflect")
    offsets = set()
    for i in range(8):
        hits = [(oy, ox) for oy in range(2 * pad + 1) for ox in range(2 * pad + 1)
                if torch.equal(y[i], padded[i, :, oy:oy + 12, ox:ox + 10])]
        assert hits
        offsets.add(hits[0])
    assert len(offsets) > 1
    assert torch.equal(random_crop(x, gen(4), padding=0), x)


def test_cutout_zeroes_a_square():
    x = batch(b=4) + 10  # no natural zeros
    y = cutout(x, gen(0), size=0.5)
    zeros = (y == 0).all(dim=1).sum(dim=(1, 2))
    assert (zeros > 0).all() and (zeros <= 36).all()
    assert torch.equal(y[y != 0], x[y != 0])


def test_affine_identity_when_ranges_are_zero():
    x = batch(b=2)
    y = random_affine(x, gen(0), degrees=0, translate=0, scale=(1, 1), shear=0)
    torch.testing.assert_close(y, x, atol=1e-5, rtol=1e-5)
