"""Image bytes -> RGB uint8 pixels, with typed errors (see ``decode.py``)."""
from distlm.images.decode import ALPHA_MODES, DEFAULT_MAX_PIXELS, decode_image, decode_reduced
from distlm.images.errors import DecodeError
from distlm.images.io import read_bytes
from distlm.images.resize import downscale

__all__ = [
    "ALPHA_MODES",
    "DEFAULT_MAX_PIXELS",
    "DecodeError",
    "decode_image",
    "decode_reduced",
    "downscale",
    "read_bytes",
]
