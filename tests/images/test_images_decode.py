"""decode_image on every awkward file a real dataset contains."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from distlm.images import DecodeError, decode_image, downscale
from distlm.images import synthetic as syn


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    rng = np.random.default_rng(0)
    base = syn.gradient(64, 96)
    return np.clip(base.astype(np.int16) + rng.integers(-20, 20, base.shape), 0, 255).astype(np.uint8)


def test_png_roundtrip_exact(rgb):
    out = decode_image(syn.encode(rgb, "PNG"), "a.png")
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    np.testing.assert_array_equal(out, rgb)


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "empty"),
        (b"hello, I am a text file\n" * 10, "not_an_image"),
    ],
    ids=["zero_byte", "text_named_jpg"],
)
def test_rejects_non_images(data, reason):
    with pytest.raises(DecodeError) as info:
        decode_image(data, "x.jpg")
    assert info.value.reason == reason
    assert "x.jpg" in str(info.value)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95, 0.999])
def test_truncated_jpeg_detected(rgb, keep):
    with pytest.raises(DecodeError) as info:
        decode_image(syn.truncated_jpeg(rgb, keep), "cut.jpg")
    assert info.value.reason == "truncated"


def test_cmyk_jpeg_becomes_rgb(rgb):
    out = decode_image(syn.cmyk_jpeg(rgb), "cmyk.jpg")
    assert out.shape == rgb.shape
    assert np.abs(out.astype(int) - rgb.astype(int)).mean() < 12


def test_png16_scaled_not_clipped(rgb):
    out = decode_image(syn.png16(rgb), "deep.png")
    np.testing.assert_array_equal(out, rgb)


def test_png16_gray_scaled():
    gray16 = (np.arange(0, 65536, 257, dtype=np.uint32)[None, :].repeat(4, 0)).astype(np.uint16)
    import cv2

    ok, buf = cv2.imencode(".png", gray16)
    out = decode_image(buf.tobytes(), "g16.png")
    np.testing.assert_array_equal(out[..., 0], (gray16 // 257).astype(np.uint8))
    assert (out[..., 0] == out[..., 2]).all()


def test_alpha_composited_on_black_or_dropped(rgb):
    alpha = np.zeros(rgb.shape[:2], np.uint8)
    alpha[:, : rgb.shape[1] // 2] = 255
    data = syn.png_alpha(rgb, alpha)
    black = decode_image(data, "a.png")
    np.testing.assert_array_equal(black[:, : rgb.shape[1] // 2], rgb[:, : rgb.shape[1] // 2])
    assert (black[:, rgb.shape[1] // 2 :] == 0).all()
    np.testing.assert_array_equal(decode_image(data, "a.png", alpha="drop"), rgb)
    assert (decode_image(data, "a.png", alpha="white")[:, -1] == 255).all()


def test_grayscale_and_palette(rgb):
    gray = decode_image(syn.grayscale_jpeg(rgb), "g.jpg")
    assert gray.shape == rgb.shape
    assert (gray[..., 0] == gray[..., 1]).all()
    pal = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE)
    out = decode_image(syn.encode(np.asarray(pal.convert("RGB")), "PNG"), "p.png")
    import io

    buf = io.BytesIO()
    pal.save(buf, format="PNG")
    np.testing.assert_array_equal(decode_image(buf.getvalue(), "p.png"), out)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_applied(orientation):
    img = np.zeros((40, 80, 3), np.uint8)
    img[:20, :40] = 255  # white top-left quadrant
    out = decode_image(syn.exif_rotated_jpeg(img, orientation), "r.jpg")
    expected = {3: (40, 80), 6: (80, 40), 8: (80, 40)}[orientation]
    assert out.shape[:2] == expected
    # where the bright quadrant lands: 3 -> bottom-right, 6 -> top-right, 8 -> bottom-left
    h, w = expected
    quad = {3: (slice(h // 2, h), slice(w // 2, w)), 6: (slice(0, h // 2), slice(w // 2, w)),
            8: (slice(h // 2, h), slice(0, w // 2))}[orientation]
    assert out[quad].mean() > 200


def test_huge_allowed_and_cap_configurable():
    big = np.zeros((6000, 6000, 3), np.uint8)
    big[::7] = 200
    data = syn.encode(big, "JPEG", quality=50)
    out = decode_image(data, "big.jpg")
    assert out.shape == (6000, 6000, 3)
    small, scale = downscale(out, 1000)
    assert max(small.shape[:2]) == 1000 and scale == pytest.approx(1 / 6)
    with pytest.raises(DecodeError) as info:
        decode_image(data, "big.jpg", max_pixels=6000 * 6000 - 1)
    assert info.value.reason == "too_large"


def test_downscale_never_enlarges(rgb):
    same, scale = downscale(rgb, 1000)
    assert same is rgb and scale == 1.0
