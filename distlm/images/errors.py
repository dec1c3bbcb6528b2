"""The one error type image decoding raises."""
from __future__ import annotations


class DecodeError(ValueError):
    """An image file could not be turned into pixels.

    ``reason`` is a short machine-friendly tag (``empty``, ``truncated``,
    ``not_an_image``, ``too_large``, ``unsupported_mode``, ``corrupt``,
    ``unreadable_file``) recorded in manifests; ``name`` is the file it is about.
    """

    def __init__(self, reason: str, name: str = "<bytes>", detail: str = "") -> None:
        self.reason = reason
        self.name = name
        self.detail = detail
        message = f"{name}: cannot decode image ({reason})"
        super().__init__(f"{message}: {detail}" if detail else message)
