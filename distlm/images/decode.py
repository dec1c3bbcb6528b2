"""Bytes -> RGB uint8 pixels, robust to the files real datasets contain.

Choices (also in ``docs/prepare.md``):

* zero-byte files, text renamed ``.jpg`` and anything Pillow cannot identify raise
  :class:`DecodeError`; nothing is guessed.
* truncated JPEGs are *detected* (no end-of-image marker after the last scan, or
  the decoder running out of data) and rejected, never silently padded with grey.
* CMYK / YCCK JPEGs, palette, grayscale, 1-bit and LA images become RGB.
* 16-bit PNGs (gray or colour) are scaled to 8 bits with ``round(v / 257)``, so
  65535 -> 255 and 32768 -> 128 (Pillow alone would clip or truncate).
* transparency is composited on black by default (``alpha="black"``: the pixel is
  ``rgb * a / 255``), or dropped (``alpha="drop"``: keep the colour channels as stored),
  or composited on white (``alpha="white"``).
* the EXIF orientation tag is applied, so pixels are upright as a viewer shows them.
* :func:`decode_reduced` decodes a large JPEG at 1/2, 1/4 or 1/8 scale in the DCT
  (Pillow's ``draft``, several times faster) when the reduced image keeps at least
  ``min_side`` pixels on its longest side; every check above applies unchanged.
* the pixel count is capped (``max_pixels``, default 100 M, enough for 6000x6000 =
  36 M) against decompression bombs; over the cap raises ``DecodeError("too_large")``
  before the pixels are decoded. Pillow's own cap (``2 * Image.MAX_IMAGE_PIXELS``,
  ~179 M) still applies on top; raising ours above it needs Pillow's raised too.
"""
from __future__ import annotations

import io
import warnings
from typing import Callable, Dict, Tuple

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from distlm.images.errors import DecodeError

DEFAULT_MAX_PIXELS = 100_000_000

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8"
_JPEG_SOS = b"\xff\xda"
_JPEG_EOI = b"\xff\xd9"


def _composite_black(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha.astype(np.uint16)
    return ((rgb.astype(np.uint16) * a[..., None] + 127) // 255).astype(np.uint8)


def _composite_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha.astype(np.uint16)[..., None]
    out = (rgb.astype(np.uint16) * a + 255 * (255 - a) + 127) // 255
    return out.astype(np.uint8)


def _drop_alpha(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return rgb


ALPHA_MODES: Dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "black": _composite_black,
    "white": _composite_white,
    "drop": _drop_alpha,
}


def is_png(data: bytes) -> bool:
    return data[:8] == _PNG_SIGNATURE


def png_bit_depth(data: bytes) -> int:
    """Bit depth from the IHDR chunk (byte 24 of a PNG), 0 if not a PNG."""
    return data[24] if is_png(data) and len(data) > 24 else 0


def jpeg_is_truncated(data: bytes) -> bool:
    """True when a JPEG has no end-of-image marker after its last scan.

    (An EOI inside an EXIF thumbnail precedes the main scan, so it does not count.)
    """
    if data[:2] != _JPEG_SOI:
        return False
    last_scan = data.rfind(_JPEG_SOS)
    return last_scan < 0 or data.rfind(_JPEG_EOI) < last_scan


def _scale16(arr: np.ndarray) -> np.ndarray:
    """uint16 values -> uint8 with round(v / 257)."""
    return ((arr.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def _decode_png16(data: bytes, name: str, alpha: str) -> np.ndarray:
    """16-bit PNG through OpenCV, which keeps all 16 bits, then scaled to 8."""
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise DecodeError("corrupt", name, "OpenCV could not decode the 16-bit PNG")
    arr = _scale16(arr) if arr.dtype == np.uint16 else arr.astype(np.uint8)
    if arr.ndim == 2:
        return np.repeat(arr[..., None], 3, axis=2)
    if arr.shape[2] == 2:  # gray + alpha
        gray = np.repeat(arr[..., :1], 3, axis=2)
        return ALPHA_MODES[alpha](gray, arr[..., 1])
    rgb = arr[..., 2::-1]  # BGR(A) -> RGB
    if arr.shape[2] == 4:
        return np.ascontiguousarray(ALPHA_MODES[alpha](rgb, arr[..., 3]))
    return np.ascontiguousarray(rgb)


_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def exif_orientation(img: Image.Image) -> int:
    """The EXIF orientation tag (1..8), 1 when absent or unreadable."""
    try:
        return int(img.getexif().get(0x0112, 1))
    except (OSError, ValueError, TypeError):
        return 1


def orient(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation to ``(H, W, 3)`` pixels (as a viewer would)."""
    method = _ORIENTATION.get(orientation)
    if method is None:
        return rgb
    return np.asarray(Image.fromarray(rgb).transpose(method))


def _to_rgb(img: Image.Image, alpha: str) -> np.ndarray:
    """Any Pillow mode -> (H, W, 3) uint8."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit gray from TIFF etc.
        arr = np.asarray(img).astype(np.int64).clip(0, 65535).astype(np.uint16)
        return np.repeat(_scale16(arr)[..., None], 3, axis=2)
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float32)
        return np.repeat(np.clip(arr, 0, 255).round().astype(np.uint8)[..., None], 3, axis=2)
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    if has_alpha:
        rgba = np.asarray(img.convert("RGBA"))
        return np.ascontiguousarray(ALPHA_MODES[alpha](rgba[..., :3], rgba[..., 3]))
    return np.asarray(img.convert("RGB"))


def _open(data: bytes, name: str, max_pixels: int, alpha: str) -> Image.Image:
    """The checked, not yet decoded Pillow image (every check that needs no pixels)."""
    if alpha not in ALPHA_MODES:
        raise ValueError(f"alpha must be one of {sorted(ALPHA_MODES)}, got {alpha!r}")
    if len(data) == 0:
        raise DecodeError("empty", name, "zero-byte file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as err:
        raise DecodeError("not_an_image", name, "not a recognised image format") from err
    except Image.DecompressionBombError as err:
        raise DecodeError("too_large", name, str(err)) from err
    except (OSError, SyntaxError, ValueError) as err:
        raise DecodeError("corrupt", name, str(err)) from err
    width, height = img.size
    if width * height > max_pixels:
        raise DecodeError("too_large", name, f"{width}x{height} exceeds max_pixels={max_pixels}")
    if width == 0 or height == 0:
        raise DecodeError("corrupt", name, f"image has size {width}x{height}")
    if img.format == "JPEG" and jpeg_is_truncated(data):
        raise DecodeError("truncated", name, "JPEG has no end-of-image marker")
    return img


def _pixels(img: Image.Image, data: bytes, name: str, alpha: str) -> np.ndarray:
    """Decode an opened image to ``(H, W, 3)`` uint8, EXIF orientation applied."""
    try:
        img.load()  # Pillow raises on missing data unless LOAD_TRUNCATED_IMAGES
        if png_bit_depth(data) == 16:
            return orient(_decode_png16(data, name, alpha), exif_orientation(img))
        img = ImageOps.exif_transpose(img)
        return _to_rgb(img, alpha)
    except DecodeError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        text = str(err)
        reason = "truncated" if "truncated" in text or "broken data stream" in text else "corrupt"
        raise DecodeError(reason, name, text) from err


def decode_image(
    data: bytes,
    name: str = "<bytes>",
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    alpha: str = "black",
) -> np.ndarray:
    """Decode an encoded image (JPEG, PNG, BMP, GIF, TIFF, WebP...) to RGB.

    Args:
        data: the file's bytes.
        name: file name used in error messages.
        max_pixels: largest width * height accepted.
        alpha: ``black`` | ``white`` | ``drop`` (see module docstring).

    Returns:
        ``(H, W, 3)`` uint8 array, EXIF orientation applied.

    Raises:
        DecodeError: with ``reason`` one of ``empty``, ``not_an_image``,
            ``truncated``, ``too_large``, ``corrupt``.

    Example::

        rgb = decode_image(open("face.jpg", "rb").read(), "face.jpg")
    """
    return _pixels(_open(data, name, max_pixels, alpha), data, name, alpha)


def _draft(img: Image.Image, min_side: int) -> int:
    """Ask Pillow for the largest JPEG DCT reduction (1, 2, 4 or 8) that keeps
    ``max(W', H') >= min_side``; returns the reduction factor."""
    if img.format != "JPEG" or min_side <= 0:
        return 1
    width, height = img.size
    longest = max(width, height)
    if longest < 2 * min_side:
        return 1
    want = (max(1, width * min_side // longest), max(1, height * min_side // longest))
    drafted = img.draft(None, want)
    if not drafted:
        return 1
    return max(1, int(round(width / drafted[1][2])))


def decode_reduced(
    data: bytes,
    name: str = "<bytes>",
    *,
    min_side: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    alpha: str = "black",
) -> Tuple[np.ndarray, float]:
    """Like :func:`decode_image`, but a large JPEG is decoded reduced in the DCT.

    Args:
        data, name, max_pixels, alpha: as :func:`decode_image` (same checks, same errors;
            ``max_pixels`` applies to the full size).
        min_side: the reduced image keeps at least this many pixels on its longest side;
            ``<= 0`` never reduces.

    Returns:
        ``(rgb, scale)``: ``rgb`` is ``(ceil(H * scale), ceil(W * scale), 3)`` uint8 with
        ``scale`` in ``{1, 1/2, 1/4, 1/8}`` (1 for every format but JPEG, and for JPEGs
        under ``2 * min_side``); a point ``p`` of ``rgb`` is ``p / scale`` in the full image.

    Example::

        small, scale = decode_reduced(jpeg_bytes, "big.jpg", min_side=640)
    """
    img = _open(data, name, max_pixels, alpha)
    factor = _draft(img, min_side)
    return _pixels(img, data, name, alpha), 1.0 / factor
