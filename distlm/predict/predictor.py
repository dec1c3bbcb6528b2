"""``Predictor``: a checkpoint in, one record per detected face out (in-process)."""
from __future__ import annotations

import os
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from distlm.images import DecodeError, decode_image, read_bytes
from distlm.checkpoint.bundle import Bundle, load_bundle
from distlm.predict.defaults import FRAME_STEP
from distlm.predict.faces import Face, FaceFinder, to_rgb
from distlm.predict.columns import FACE_COLUMNS, face_fields
from distlm.predict.inputs import VIDEO, kind_of, timed_frames
from distlm.predict.results import Predictions
from distlm.predict.scoring import DEFAULT_THRESHOLD, Scorer, score_names

Frame = Tuple[str, int, Optional[float], np.ndarray]  # input, frame index, seconds (videos), RGB pixels


def face_rows(frames: Sequence[Tuple[str, int, Optional[float]]], faces: Sequence[List[Face]],
              cols: Mapping[str, np.ndarray]) -> List[Dict[str, Any]]:
    """Records for the faces of ``frames`` (``input, frame, timestamp``); ``cols`` are
    score columns over all faces in order. Columns: :data:`FACE_COLUMNS`, then ``cols``."""
    rows, k = [], 0
    for (source, frame, t), found in zip(frames, faces):
        for face in found:
            row: Dict[str, Any] = {"input": source, "frame": int(frame), "timestamp": t, "face_id": face.index,
                                   **face_fields(face.box, face.score, face.landmarks)}
            for name, values in cols.items():
                v = values[k]
                row[name] = v.item() if hasattr(v, "item") else v
            rows.append(row)
            k += 1
    return rows


class Predictor:
    """Detect faces and score them with a trained distlm model.

    Args:
        checkpoint: a ``state.pt`` (or its folder) written by ``distlm.train``.
        device: torch device for the model (None: CUDA if available, else CPU).
        detector: override the checkpoint's detector (``mtcnn`` | ``haar`` | ``none``).
        batch_size: crops per forward pass.
        threshold: AU on/off threshold.
        every: keep every N-th frame of videos.
        storage: S3 options for ``s3://`` inputs (``endpoint_url``...).
        num_threads: detector threads.

    Example::

        p = distlm.Predictor("runs/rafdb/checkpoint_000009")
        rows = p.predict(["a.jpg", "b.png"])     # list of dicts, one per face
        rows.to_table().to_pandas()              # columns: input, frame, timestamp, face_id, FaceRectX, ...

    Raises:
        CheckpointError: the file is not a distlm checkpoint (or a foreign pickle).
    """

    def __init__(self, checkpoint: str, device: Optional[str] = None, detector: Optional[str] = None,
                 batch_size: int = 64, threshold: float = DEFAULT_THRESHOLD, every: int = FRAME_STEP,
                 storage: Optional[Mapping[str, Any]] = None, num_threads: Optional[int] = None) -> None:
        self.bundle: Bundle = load_bundle(checkpoint, detector)
        self.scorer = Scorer(self.bundle, device, batch_size, threshold)
        self.finder = FaceFinder(self.bundle.crop, self.bundle.channels, num_threads)
        self.every, self.storage = every, dict(storage or {})

    @property
    def columns(self) -> List[str]:
        return list(FACE_COLUMNS) + score_names(self.bundle)

    def _frames(self, images: Iterable[Any], out: Predictions) -> Iterator[Frame]:
        for i, image in enumerate(images):
            out.counts["inputs"] += 1
            is_path = isinstance(image, (str, os.PathLike))
            source = os.fspath(image) if is_path else f"<input {i}>"
            try:
                if is_path and kind_of(source) == VIDEO:
                    for f, t, rgb in timed_frames(source, self.every, self.storage):
                        yield source, f, t, rgb
                elif is_path:
                    yield source, 0, None, decode_image(read_bytes(source, self.storage), source)
                else:
                    yield source, 0, None, to_rgb(image)
            except (DecodeError, ValueError) as err:
                out.counts["unreadable"] += 1
                out.errors.append({"input": source, "frame": None, "timestamp": None,
                                   "reason": getattr(err, "reason", "not_an_image"), "detail": str(err)})

    def _flush(self, chunk: List[Frame], out: Predictions) -> None:
        faces = self.finder.find([rgb for _, _, _, rgb in chunk])
        crops = [f.crop for found in faces for f in found]
        size, ch = self.bundle.image_size, self.bundle.channels
        cols = self.scorer.columns(np.stack(crops) if crops else np.zeros((0, size, size, ch), np.uint8))
        keys = [(s, f, t) for s, f, t, _ in chunk]
        for key, found in zip(keys, faces):
            out.counts["frames"] += 1
            if not found:
                out.counts["no_face"] += 1
                out.no_face.append({"input": key[0], "frame": key[1], "timestamp": key[2]})
        rows = face_rows(keys, faces, cols)
        out.counts["faces"] += len(rows)
        out.extend(rows)

    def predict(self, images: Any) -> Predictions:
        """One record per face found in ``images``.

        Args:
            images: one or a list of: paths (images or videos, local or ``s3://``),
                PIL images, numpy arrays ``(H, W[, C])``, tensors ``(C, H, W)`` / ``(H, W, C)``.

        Returns:
            :class:`~distlm.predict.results.Predictions`: a list of dicts (columns in
            :attr:`columns`), with ``.to_table()``, ``.errors`` (unreadable inputs and
            why), ``.no_face`` and ``.counts``. Nothing raises for a bad image.
        """
        if isinstance(images, (str, os.PathLike)) or not isinstance(images, (list, tuple)):
            images = [images]
        out = Predictions(columns=self.columns)
        chunk: List[Frame] = []
        for frame in self._frames(images, out):
            chunk.append(frame)
            if len(chunk) >= self.bundle.crop.detect_batch:
                self._flush(chunk, out)
                chunk = []
        if chunk:
            self._flush(chunk, out)
        return out
