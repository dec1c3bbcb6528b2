"""What to predict on: files, folders (recursive), ``s3://`` prefixes and videos.

Videos are read with PyAV (``pip install av``); every ``every``-th frame is kept.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from distlm.data.fs import is_s3, resolve
from distlm.data.listing import IMAGE_EXTENSIONS, list_images
from distlm.data.report import ReadReport
from distlm.images import DecodeError

VIDEO_EXTENSIONS: Tuple[str, ...] = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
IMAGE, VIDEO = "image", "video"


@dataclass(frozen=True)
class Item:
    """One input: ``source`` (path or URI) and ``kind`` (``image`` | ``video``)."""

    source: str
    kind: str


def kind_of(path: str) -> str:
    return VIDEO if str(path).lower().endswith(VIDEO_EXTENSIONS) else IMAGE


def expand_inputs(inputs: Sequence[str], storage: Optional[Mapping[str, Any]] = None,
                  report: Optional[ReadReport] = None) -> List[Item]:
    """Files as given; folders and ``s3://`` prefixes listed recursively (images and videos).

    A path that does not exist is still returned (it becomes an ``unreadable_file``
    error when read), so every input is accounted for.
    """
    items: List[Item] = []
    for src in inputs:
        fs, p = resolve(src, storage)
        if fs.isdir(p):
            exts = IMAGE_EXTENSIONS + VIDEO_EXTENSIONS
            items += [Item(u, kind_of(u)) for u in list_images(src, storage, exts, report=report)]
        else:
            items.append(Item(src if is_s3(src) else os.path.abspath(src), kind_of(src)))
    return items


def video_frames(path: str, every: int = 1, storage: Optional[Mapping[str, Any]] = None,
                 max_frames: Optional[int] = None) -> Iterator[Tuple[int, np.ndarray]]:
    """Yield ``(frame_index, (H, W, 3) uint8 RGB)`` for frames ``0, every, 2*every...``.

    Raises:
        DecodeError: ``unreadable_file`` / ``not_a_video`` naming the file.
    """
    for i, _, rgb in timed_frames(path, every, storage, max_frames):
        yield i, rgb


def frame_time(frame: Any, index: int, stream: Any) -> Optional[float]:
    """Seconds from the start of the video: the frame's ``pts * time_base`` (PyAV
    ``frame.time``), else ``index / average frame rate``, else None."""
    if frame.time is not None:
        return float(frame.time)
    rate = stream.average_rate or stream.guessed_rate
    return float(index / rate) if rate else None


def timed_frames(path: str, every: int = 1, storage: Optional[Mapping[str, Any]] = None,
                 max_frames: Optional[int] = None) -> Iterator[Tuple[int, Optional[float], np.ndarray]]:
    """Yield ``(frame_index, seconds, (H, W, 3) uint8 RGB)`` for frames ``0, every, 2*every...``
    (seconds: :func:`frame_time`).

    Raises:
        DecodeError: ``unreadable_file`` / ``not_a_video`` / ``corrupt`` naming the file.
    """
    try:
        import av
    except ImportError as err:  # pragma: no cover - dependency message
        raise DecodeError("unsupported_mode", path, "reading videos needs PyAV: pip install av") from err
    every = max(1, int(every))
    fs, p = resolve(path, storage)
    try:
        handle = fs.open(p, "rb")
    except OSError as err:
        raise DecodeError("unreadable_file", path, str(err)) from err
    with handle:
        try:
            container = av.open(handle)
        except (av.error.FFmpegError, OSError, ValueError) as err:
            raise DecodeError("not_a_video", path, str(err)) from err
        with container:
            kept = 0
            try:
                stream = container.streams.video[0]
                for i, frame in enumerate(container.decode(video=0)):
                    if i % every:
                        continue
                    yield i, frame_time(frame, i, stream), frame.to_ndarray(format="rgb24")
                    kept += 1
                    if max_frames and kept >= max_frames:
                        return
            except (av.error.FFmpegError, ValueError, IndexError) as err:
                raise DecodeError("corrupt", path, f"video decoding failed: {err}") from err
