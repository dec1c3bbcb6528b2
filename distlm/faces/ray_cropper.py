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
from typing import Any, Dict, List, Mapping, Optional, Union

import numpy as np
import pyarrow as pa

from distlm.data import image_column
from distlm.faces.detectors import FaceDetector
from distlm.faces.options import CropOptions
from distlm.faces.pipeline import FaceResult, crop_faces
from distlm.faces.registry import DETECTORS
from distlm.faces.threads import assigned_cpus
from distlm.images import DEFAULT_MAX_PIXELS, DecodeError, decode_image, read_bytes

UNREADABLE = "unreadable"
OUTPUT_COLUMNS = ("image", "box", "det_score", "faces", "kept", "outcome", "reason", "detail")


def _as_options(options: Union[CropOptions, Mapping[str, Any], None]) -> CropOptions:
    if isinstance(options, CropOptions):
        return options
    return CropOptions(**dict(options or {}))


def _pixels(row_path: Optional[str], row_image: Any, storage: Any, max_pixels: int, alpha: str) -> np.ndarray:
    """Decoded ``(H, W, 3)`` uint8 from a path, or an in-memory image made RGB."""
    if row_path is not None:
        return decode_image(read_bytes(row_path, storage), row_path, max_pixels=max_pixels, alpha=alpha)
    if row_image is None:
        raise DecodeError("not_an_image", "<row>", "row has neither a path nor an image")
    arr = np.asarray(row_image, dtype=np.uint8)
    arr = arr[..., None] if arr.ndim == 2 else arr
    return np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr[..., :3]


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
    """

    def __init__(
        self,
        options: Union[CropOptions, Mapping[str, Any], None] = None,
        num_threads: Optional[int] = None,
        storage: Optional[Mapping[str, Any]] = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        alpha: str = "black",
        group_column: str = "slice",
    ) -> None:
        self.options = _as_options(options)
        threads = num_threads or assigned_cpus()
        self.detector: FaceDetector = DETECTORS.create(
            self.options.detector, num_threads=threads, **self.options.detector_kwargs
        )
        self.storage = dict(storage or {})
        self.max_pixels = max_pixels
        self.alpha = alpha
        self.group_column = group_column

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

    def process(self, paths: List[Optional[str]], images: List[Any]) -> List[Union[FaceResult, DecodeError]]:
        """Results for one chunk, in order: a :class:`FaceResult` or the :class:`DecodeError`."""
        out: List[Union[FaceResult, DecodeError, None]] = [None] * len(paths)
        decoded, where = [], []
        for i, (path, image) in enumerate(zip(paths, images)):
            try:
                decoded.append(_pixels(path, image, self.storage, self.max_pixels, self.alpha))
                where.append(i)
            except DecodeError as err:
                out[i] = err
        for i, res in zip(where, crop_faces(decoded, self.detector, self.options)):
            out[i] = res
        return out  # type: ignore[return-value]

    def __call__(self, batch: pa.Table) -> pa.Table:
        n = batch.num_rows
        paths = batch.column("path").to_pylist() if "path" in batch.column_names else [None] * n
        has_image = "image" in batch.column_names
        size = self.options.size
        crops = np.zeros((n, size, size, 3), np.uint8)
        cols: Dict[str, list] = {k: [None] * n for k in OUTPUT_COLUMNS if k != "image"}
        for rows in self._chunks(batch):
            imgs = [_numpy_cell(batch, i) for i in rows] if has_image else [None] * len(rows)
            for i, res in zip(rows, self.process([paths[i] for i in rows], imgs)):
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
    actors: int = 1,
    cpus_per_actor: float = 1,
    gpus_per_actor: float = 0.0,
    **cropper_kwargs: Any,
) -> Any:
    """``ds.map_batches(FaceCropper, ...)`` with one batch per input block.

    Args:
        ds: a ``ray.data.Dataset`` of index rows (blocks = the units to keep together).
        options: crop options.
        actors: number of FaceCropper actors (each loads one detector).
        cpus_per_actor: CPUs reserved per actor (also its detector's thread count).
        **cropper_kwargs: forwarded to :class:`FaceCropper`.
    """
    opts = _as_options(options)
    kwargs = dict(options=dataclasses.asdict(opts), **cropper_kwargs)
    kwargs.setdefault("num_threads", max(1, int(cpus_per_actor)))
    import ray.data

    return ds.map_batches(
        FaceCropper,
        fn_constructor_kwargs=kwargs,
        batch_size=None,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=actors) if isinstance(actors, int)
        else ray.data.ActorPoolStrategy(min_size=actors[0], max_size=actors[1]),
        num_cpus=cpus_per_actor,
        **({"num_gpus": gpus_per_actor} if gpus_per_actor else {}),
    )
