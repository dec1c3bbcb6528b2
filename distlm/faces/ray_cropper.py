"""``FaceCropper``: the Ray Data callable class (one detector per actor).

Usage::

    ds = ray.data.from_arrow(index_tables)           # id, path, label, ... columns
    crops = add_face_crops(ds, CropOptions(detector="mtcnn"), actors=2)

Each output row keeps every input column (an input ``image`` column is replaced) and
adds ``image`` ((size, size, 3) uint8 in the binary layout of :mod:`distlm.data.image_column`; zeros when there is no crop), ``box``
(list<float32> x, y, w, h in source pixels, null if none), ``det_score`` (float32),
``faces`` (int32), ``kept`` (int32, -1 if none), ``outcome`` (``ok`` | ``no_face`` |
``multiple_faces`` | ``unreadable``), ``reason`` and ``detail`` (strings, null unless
unreadable).
"""
from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np
import pyarrow as pa

from distlm.data import image_column
from distlm.faces.actor_pool import pool_strategy
from distlm.faces.detectors import FaceDetector
from distlm.faces.fetch import in_order
from distlm.faces.options import CropOptions
from distlm.faces.pipeline import FaceResult, crop_faces
from distlm.faces.registry import DETECTORS
from distlm.faces.source import Source
from distlm.faces.threads import assigned_cpus
from distlm.images import DEFAULT_MAX_PIXELS, DecodeError, decode_image, decode_reduced, read_bytes

UNREADABLE = "unreadable"
OUTPUT_COLUMNS = ("image", "box", "det_score", "faces", "kept", "outcome", "reason", "detail")


def _as_options(options: Union[CropOptions, Mapping[str, Any], None]) -> CropOptions:
    if isinstance(options, CropOptions):
        return options
    return CropOptions(**dict(options or {}))


def _from_file(path: str, storage: Any, max_pixels: int, alpha: str, min_side: int) -> Source:
    """Read and decode one file; a large JPEG is decoded reduced (not below ``min_side``)."""
    data = read_bytes(path, storage)
    pixels, scale = decode_reduced(data, path, min_side=min_side, max_pixels=max_pixels, alpha=alpha)
    full = None if scale == 1.0 else partial(decode_image, data, path, max_pixels=max_pixels, alpha=alpha)
    return Source(pixels, scale, full)


def _from_array(row_image: Any) -> Source:
    """An in-memory ``(H, W)``, ``(H, W, 1|3|4)`` image made ``(H, W, 3)`` RGB."""
    if row_image is None:
        raise DecodeError("not_an_image", "<row>", "row has neither a path nor an image")
    arr = np.asarray(row_image, dtype=np.uint8)
    arr = arr[..., None] if arr.ndim == 2 else arr
    return Source(np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr[..., :3])


class FaceCropper:
    """Ray Data ``map_batches`` callable: decode, detect, choose, crop.

    Args:
        options: :class:`CropOptions` or its fields as a dict.
        num_threads: detector threads (default: the CPUs Ray gave this actor).
        storage: fsspec options for ``s3://`` paths (e.g. ``endpoint_url``).
        max_pixels: decompression-bomb cap per image.
        alpha: transparency handling (``black`` | ``white`` | ``drop``).
        group_column: rows are processed in runs of equal values of this column (if
            present), each run cut into ``detect_batch`` chunks from its first row, so
            results depend only on the run, not on how Ray batched it.
        fetch_threads: files read (and decoded) at once, ahead of detection; results
            keep the input order. 1: one at a time.
        draft: decode large JPEGs reduced for detection (see :mod:`distlm.faces.source`).
            Off by default: beside MTCNN at ``max_side`` 640 it measured no gain
            (docs/benchmarks.md), and off, the crops equal ``distlm.predict``'s byte for
            byte (``tests/faces/test_crop_parity.py``).
    """

    def __init__(
        self,
        options: Union[CropOptions, Mapping[str, Any], None] = None,
        num_threads: Optional[int] = None,
        storage: Optional[Mapping[str, Any]] = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        alpha: str = "black",
        group_column: str = "slice",
        fetch_threads: int = 8,
        draft: bool = False,
    ) -> None:
        if fetch_threads < 1:
            raise ValueError(f"FaceCropper: fetch_threads must be >= 1, got {fetch_threads}")
        self.options = _as_options(options)
        threads = num_threads or assigned_cpus()
        self.detector: FaceDetector = DETECTORS.create(
            self.options.detector, num_threads=threads, **self.options.detector_kwargs
        )
        self.storage = dict(storage or {})
        self.max_pixels = max_pixels
        self.alpha = alpha
        self.group_column = group_column
        self.fetch_threads = fetch_threads
        self.draft = draft
        self._pool: Optional[ThreadPoolExecutor] = None

    def _chunks(self, batch: pa.Table) -> List[range]:
        n = batch.num_rows
        if self.group_column in batch.column_names and n:
            keys = batch.column(self.group_column).to_pylist()
            starts = [0] + [i for i in range(1, n) if keys[i] != keys[i - 1]]
        else:
            starts = [0]
        bounds = starts + [n]
        step = self.options.detect_batch
        return [range(s, min(s + step, e)) for s, e in zip(bounds, bounds[1:]) for s in range(s, e, step)]

    def _load(self, batch: pa.Table, paths: List[Optional[str]], i: int) -> Source:
        if paths[i] is not None:
            min_side = self.options.max_side if self.draft else 0
            return _from_file(paths[i], self.storage, self.max_pixels, self.alpha, min_side)
        return _from_array(_numpy_cell(batch, i) if "image" in batch.column_names else None)

    def _loaded(self, batch: pa.Table, paths: List[Optional[str]]):
        """Each row's :class:`Source` or :class:`DecodeError`, in order, read ``fetch_threads`` at a time."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.fetch_threads, thread_name_prefix="face-fetch")
        return in_order(partial(self._load, batch, paths), range(batch.num_rows), self._pool, self.fetch_threads)

    def process(self, loaded: List[Union[Source, DecodeError]]) -> List[Union[FaceResult, DecodeError]]:
        """Results for one chunk, in order: a :class:`FaceResult` or the row's :class:`DecodeError`."""
        out: List[Union[FaceResult, DecodeError]] = list(loaded)  # type: ignore[arg-type]
        where = [i for i, src in enumerate(loaded) if isinstance(src, Source)]
        for i, res in zip(where, crop_faces([loaded[i] for i in where], self.detector, self.options)):
            out[i] = res
        return out

    def __call__(self, batch: pa.Table) -> pa.Table:
        n = batch.num_rows
        paths = batch.column("path").to_pylist() if "path" in batch.column_names else [None] * n
        size = self.options.size
        crops = np.zeros((n, size, size, 3), np.uint8)
        cols: Dict[str, list] = {k: [None] * n for k in OUTPUT_COLUMNS if k != "image"}
        loaded = self._loaded(batch, paths)
        for rows in self._chunks(batch):
            for i, res in zip(rows, self.process([next(loaded) for _ in rows])):
                if isinstance(res, DecodeError):
                    row = dict(box=None, det_score=0.0, faces=0, kept=-1, outcome=UNREADABLE,
                               reason=res.reason, detail=str(res))
                else:
                    if res.crop is not None:
                        crops[i] = res.crop
                    row = dict(box=None if res.box is None else res.box.tolist(), det_score=res.score,
                               faces=res.faces, kept=res.kept, outcome=res.outcome, reason=None, detail=None)
                for k, v in row.items():
                    cols[k][i] = v
        return _assemble(batch, crops, cols)


def _numpy_cell(batch: pa.Table, i: int) -> np.ndarray:
    return image_column.decode(batch.slice(i, 1).select(["image"]), "image", "row")[0]


def _assemble(batch: pa.Table, crops: np.ndarray, cols: Dict[str, list]) -> pa.Table:
    if "image" in batch.column_names:
        batch = batch.drop_columns(["image"])
    types = dict(box=pa.list_(pa.float32()), det_score=pa.float32(), faces=pa.int32(), kept=pa.int32(),
                 outcome=pa.string(), reason=pa.string(), detail=pa.string())
    field, images = image_column.binary(crops)  # the on-disk layout, encoded once
    batch = batch.append_column(field, images)
    for k, t in types.items():
        batch = batch.append_column(pa.field(k, t), pa.array(cols[k], type=t))
    return batch


def add_face_crops(
    ds: Any,
    options: Union[CropOptions, Mapping[str, Any], None] = None,
    actors: Union[int, Tuple[int, Optional[int]]] = 1,
    cpus_per_actor: float = 1,
    gpus_per_actor: float = 0.0,
    **cropper_kwargs: Any,
) -> Any:
    """``ds.map_batches(FaceCropper, ...)`` with one batch per input block.

    Args:
        ds: a ``ray.data.Dataset`` of index rows (blocks = the units to keep together).
        options: crop options.
        actors: FaceCropper actors (each loads one detector): an int for a fixed pool,
            or ``(min, max)`` for an autoscaling one; ``max=None`` sizes it from the
            cluster's CPUs (``CPU // cpus_per_actor``, at least ``min``). See
            :func:`distlm.faces.actor_pool.pool_strategy`.
        cpus_per_actor: CPUs reserved per actor (also its detector's thread count).
        gpus_per_actor: GPUs reserved per actor (``> 0``: the detector's backend, e.g.
            TensorFlow for ``mtcnn``, sees and uses the GPU).
        **cropper_kwargs: forwarded to :class:`FaceCropper` (``storage``,
            ``max_pixels``, ``alpha``, ``fetch_threads``, ``draft``...).

    Example::

        add_face_crops(ds, CropOptions(), actors=(1, None), cpus_per_actor=2)
    """
    opts = _as_options(options)
    kwargs = dict(options=dataclasses.asdict(opts), **cropper_kwargs)
    kwargs.setdefault("num_threads", max(1, int(cpus_per_actor)))
    if gpus_per_actor < 0:
        raise ValueError(f"add_face_crops: gpus_per_actor must be >= 0, got {gpus_per_actor}")
    import ray.data

    gpu: Dict[str, Any] = {"num_gpus": gpus_per_actor} if gpus_per_actor > 0 else {}
    return ds.map_batches(
        FaceCropper,
        fn_constructor_kwargs=kwargs,
        batch_size=None,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(**pool_strategy(actors, cpus_per_actor)),
        num_cpus=cpus_per_actor,
        **gpu,
    )
