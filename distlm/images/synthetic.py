"""Encoders for synthetic image files: the awkward cases decoders must survive.

Used by tests and benchmarks to write fixture trees on the fly (no binary files in
the repository). Every function returns the encoded bytes.
"""
from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image


def encode(rgb: np.ndarray, fmt: str = "JPEG", **save_kw: object) -> bytes:
    """``(H, W, 3)`` or ``(H, W)`` or ``(H, W, 4)`` uint8 -> encoded bytes via Pillow."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **save_kw)
    return buf.getvalue()


def gradient(height: int = 240, width: int = 320) -> np.ndarray:
    """A smooth colour ramp with no face in it: ``(H, W, 3)`` uint8."""
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    return np.stack([np.broadcast_to(x, (height, width)), np.broadcast_to(y, (height, width)),
                     np.full((height, width), 128, np.float32)], axis=2).astype(np.uint8)


def truncated_jpeg(rgb: np.ndarray, keep: float = 0.6) -> bytes:
    """A JPEG cut after ``keep`` of its bytes (as an interrupted download)."""
    data = encode(rgb, "JPEG", quality=90)
    return data[: int(len(data) * keep)]


def cmyk_jpeg(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).convert("CMYK").save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def png16(rgb: np.ndarray) -> bytes:
    """16-bit-per-channel PNG with values ``v * 257`` (so exact 8-bit is ``v``)."""
    arr16 = rgb.astype(np.uint16) * 257
    ok, buf = cv2.imencode(".png", arr16[..., ::-1])
    assert ok
    return buf.tobytes()


def png_alpha(rgb: np.ndarray, alpha: np.ndarray) -> bytes:
    """RGBA PNG; ``alpha`` is ``(H, W)`` uint8."""
    return encode(np.dstack([rgb, alpha]), "PNG")


def grayscale_jpeg(rgb: np.ndarray) -> bytes:
    return encode(np.asarray(Image.fromarray(rgb).convert("L")), "JPEG", quality=95)


def exif_rotated_jpeg(rgb: np.ndarray, orientation: int) -> bytes:
    """A JPEG whose stored pixels are ``rgb`` with EXIF orientation set."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(rgb, "JPEG", quality=95, exif=exif.tobytes())


def tile(face: np.ndarray, count: int, gap: int = 20) -> np.ndarray:
    """``count`` copies of ``face`` side by side on grey, ``gap`` pixels apart."""
    h, w = face.shape[:2]
    canvas = np.full((h + 2 * gap, count * (w + gap) + gap, 3), 128, np.uint8)
    for i in range(count):
        x = gap + i * (w + gap)
        canvas[gap:gap + h, x:x + w] = face
    return canvas
