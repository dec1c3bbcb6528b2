"""decode_reduced: large JPEGs decoded at 1/2..1/8 scale, every input error as decode_image."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from distlm.images import DecodeError, decode_image, decode_reduced
from distlm.images import synthetic as syn


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A ``(1500, 2000, 3)`` smooth image with texture (JPEG-friendly)."""
    rng = np.random.default_rng(1)
    base = cv2.resize(syn.gradient(150, 200), (2000, 1500), interpolation=cv2.INTER_LINEAR)
    return np.clip(base.astype(np.int16) + rng.integers(-8, 8, base.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("min_side,scale,shape", [(640, 0.5, (750, 1000)), (250, 0.125, (188, 250)),
                                                   (1001, 1.0, (1500, 2000)), (0, 1.0, (1500, 2000))])
def test_largest_reduction_that_keeps_min_side(photo, min_side, scale, shape):
    data = syn.encode(photo, "JPEG", quality=95)
    out, got = decode_reduced(data, "big.jpg", min_side=min_side)
    assert got == scale and out.shape == shape + (3,) and out.dtype == np.uint8
    assert max(out.shape[:2]) >= min_side
    full = decode_image(data, "big.jpg")
    ref = cv2.resize(full, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    assert np.abs(out.astype(int) - ref.astype(int)).mean() < 4


def test_other_formats_never_reduced(photo):
    out, scale = decode_reduced(syn.encode(photo, "PNG"), "big.png", min_side=200)
    assert scale == 1.0
    np.testing.assert_array_equal(out, photo)


def test_exif_orientation_applied_after_reduction(photo):
    out, scale = decode_reduced(syn.exif_rotated_jpeg(photo, 6), "r.jpg", min_side=640)
    assert scale == 0.5 and out.shape == (1000, 750, 3)


def test_cmyk_reduced_is_rgb(photo):
    out, scale = decode_reduced(syn.cmyk_jpeg(photo), "cmyk.jpg", min_side=640)
    assert scale == 0.5 and out.shape == (750, 1000, 3)
    full = decode_image(syn.cmyk_jpeg(photo), "cmyk.jpg")
    assert abs(float(out.mean()) - float(full.mean())) < 2


BAD = {
    "empty": lambda p: b"",
    "not_an_image": lambda p: b"not an image\n",
    "truncated": lambda p: syn.truncated_jpeg(p, 0.5),
    "too_large": lambda p: syn.encode(p, "JPEG", quality=80),
}


@pytest.mark.parametrize("reason", sorted(BAD))
def test_errors_same_as_decode_image(photo, reason):
    data = BAD[reason](photo)
    cap = 2000 * 1500 - 1 if reason == "too_large" else 10 ** 8
    with pytest.raises(DecodeError) as full:
        decode_image(data, "x.jpg", max_pixels=cap)
    with pytest.raises(DecodeError) as reduced:
        decode_reduced(data, "x.jpg", min_side=200, max_pixels=cap)
    assert full.value.reason == reduced.value.reason == reason
    assert "x.jpg" in str(reduced.value)


def test_alpha_and_16_bit_as_decode_image():
    rgb = syn.gradient(64, 96)
    alpha = np.full((64, 96), 128, np.uint8)
    for data in (syn.png_alpha(rgb, alpha), syn.png16(rgb)):
        out, scale = decode_reduced(data, "a.png", min_side=16)
        assert scale == 1.0
        np.testing.assert_array_equal(out, decode_image(data, "a.png"))
    white = decode_reduced(syn.png_alpha(rgb, alpha), "a.png", min_side=16, alpha="white")[0]
    assert np.array_equal(white, decode_image(syn.png_alpha(rgb, alpha), "a.png", alpha="white"))
    assert not np.array_equal(white, decode_image(syn.png_alpha(rgb, alpha), "a.png"))  # the mode reaches the decode
