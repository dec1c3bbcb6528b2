"""The Ray Data prediction pipeline: inputs → face actors → model actors → a sink.

::

    items (order, source, kind)
      └─ map_batches(FaceStage, actors)   decode / read video frames, detect, crop
      └─ map_batches(ModelStage, actors)  batched forward pass (CPU or GPU)
      └─ driver: sink.add(batch)          whole inputs to part files (distlm.predict.sink)

Each stage is a callable class (one detector / one model per actor), as in
:class:`distlm.faces.FaceCropper`; the per-face work is the same code the
in-process :class:`~distlm.predict.Predictor` runs. The driver keeps no rows: the
sink writes them out as inputs complete.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import pyarrow as pa

from distlm.faces import CropOptions
from distlm.images import DecodeError, decode_image, read_bytes
from distlm.checkpoint.bundle import load_bundle
from distlm.predict.columns import FACE_COLUMNS, face_fields
from distlm.predict.defaults import FRAME_STEP
from distlm.predict.faces import FaceFinder
from distlm.predict.inputs import VIDEO, Item, timed_frames
from distlm.predict.parts import NO_FACE, OK, UNREADABLE
from distlm.predict.resources import model_actor_cpus, plan_cpus
from distlm.predict.results import Predictions
from distlm.predict.schema import part_schema
from distlm.predict.scoring import DEFAULT_THRESHOLD, Scorer
from distlm.predict.sink import PartSink
from distlm.telemetry.progress import Progress

log = logging.getLogger("distlm.predict")
_TEXT = ("input", "outcome", "reason", "detail")
_META = ("order", "n_item", *FACE_COLUMNS, "outcome", "reason", "detail")


class FaceStage:
    """``map_batches`` callable: items (``order``, ``source``, ``kind``) → one row per face.

    Frames without a face give one ``no_face`` row, unreadable inputs one
    ``unreadable`` row (``reason``, ``detail``); their ``crop`` is zeros. Every row
    carries ``n_item``, the number of rows of its input (the driver knows when an
    input is complete); numeric columns are float with NaN for "none".
    """

    def __init__(self, crop: Mapping[str, Any], channels: int, every: int = FRAME_STEP,
                 storage: Optional[Mapping[str, Any]] = None, num_threads: Optional[int] = None) -> None:
        self.finder = FaceFinder(CropOptions(**dict(crop)), channels, num_threads)
        self.every, self.storage = every, dict(storage or {})
        self.shape = (self.finder.options.size, self.finder.options.size, channels)

    def _frames(self, source: str, kind: str):
        if kind == VIDEO:
            yield from timed_frames(source, self.every, self.storage)
        else:
            yield 0, None, decode_image(read_bytes(source, self.storage), source)

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        rows: List[Dict[str, Any]] = []
        crops: List[np.ndarray] = []
        blank = np.zeros(self.shape, np.uint8)
        # decode every item of the task first, then detect over all their frames at
        # once: the detector batches same-shape frames (photos of one camera, video frames)
        items: List[tuple] = []
        for order, source, kind in zip(batch["order"], batch["source"], batch["kind"]):
            base = {"order": int(order), "input": str(source), "reason": None, "detail": None}
            try:
                items.append((base, list(self._frames(str(source), str(kind))), None))
            except DecodeError as err:
                items.append((base, [], err))
        found_all = iter(self.finder.find([rgb for _, frames, _ in items for _, _, rgb in frames]))
        for base, frames, err in items:
            mine: List[Dict[str, Any]] = []
            if err is not None:
                mine.append({**base, "outcome": UNREADABLE, "reason": err.reason, "detail": str(err)})
                crops.append(blank)
            elif not frames:
                mine.append({**base, "outcome": UNREADABLE, "reason": "no_frames", "detail": "no frames decoded"})
                crops.append(blank)
            for f, t, _ in frames:
                found = next(found_all)
                at = {**base, "frame": f, "timestamp": t}
                if not found:
                    mine.append({**at, "outcome": NO_FACE, "reason": NO_FACE, "detail": "no face found"})
                    crops.append(blank)
                for face in found:
                    mine.append({**at, "face_id": face.index, **face_fields(face.box, face.score, face.landmarks),
                                 "outcome": OK})
                    crops.append(face.crop)
            rows += [{**r, "n_item": len(mine)} for r in mine]
        out = {k: np.array([r.get(k) for r in rows], dtype=object) if k in _TEXT else
               np.array([np.nan if r.get(k) is None else r[k] for r in rows], dtype=np.float64)
               for k in _META}
        out["order"], out["n_item"] = out["order"].astype(np.int64), out["n_item"].astype(np.int64)
        out["crop"] = np.stack(crops) if crops else np.zeros((0, *self.shape), np.uint8)
        return out


class ModelStage:
    """``map_batches`` callable: face rows with ``crop`` → the same rows with score columns."""

    def __init__(self, checkpoint: str, device: Optional[str] = None, batch_size: int = 64,
                 threshold: float = 0.5) -> None:
        self.scorer = Scorer(load_bundle(checkpoint), device, batch_size, threshold)

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        ok = np.asarray(batch["outcome"] == OK)
        cols = self.scorer.columns(batch["crop"][ok])
        out = {k: v for k, v in batch.items() if k != "crop"}
        n = len(ok)
        for name, values in cols.items():
            full = np.full(n, None, dtype=object) if values.dtype == object else np.full(n, np.nan, np.float64)
            full[ok] = values
            out[name] = full
        return out


def run_pipeline(checkpoint: str, items: Sequence[Item], sink: Any = None, *, detector: Optional[str] = None,
                 face_actors: int = 1, model_actors: int = 1, cpus_per_actor: float = 1.0,
                 model_cpus: Optional[float] = None, cluster_cpus: Optional[float] = None,
                 gpus_per_model_actor: float = 0.0, device: Optional[str] = None, batch_size: int = 64,
                 threshold: float = DEFAULT_THRESHOLD, every: int = FRAME_STEP, storage: Optional[Mapping[str, Any]] = None,
                 items_per_task: int = 4, log_every_s: float = 10.0) -> Any:
    """Predict on ``items`` with Ray Data (Ray must be initialised), feeding ``sink``.

    Args:
        checkpoint: distlm checkpoint path (loaded once here, once per model actor).
        items: inputs from :func:`~distlm.predict.inputs.expand_inputs`.
        sink: takes each batch of rows (``add(batch)``, ``close()``), e.g. a
            :class:`~distlm.predict.sink.PartSink` over a :class:`~distlm.predict.parts.PartStore`;
            None: rows are collected and returned as :class:`Predictions` (small runs only).
        face_actors / model_actors: actor pool sizes of the two stages.
        cpus_per_actor: CPUs per face actor (also the detector's threads).
        model_cpus: CPUs reserved per CPU model actor (default: ``cpus_per_actor`` when it
            fits, else what the face actors leave; see :mod:`distlm.predict.resources`).
        gpus_per_model_actor: GPUs per model actor (device then defaults to CUDA).
        items_per_task: inputs per face-stage call.
        cluster_cpus: CPUs to plan for (an autoscaling cluster's maximum); default: the
            CPUs the cluster has now.

    Returns:
        ``sink``, closed (or the collected :class:`Predictions`).
    """
    import ray
    import ray.data

    bundle = load_bundle(checkpoint, detector)
    collected: List[pa.Table] = []
    collect = sink is None
    if collect:
        sink = PartSink(collected.append, part_schema(bundle), rows_per_part=1)
    if items:
        _stream(ray, bundle, checkpoint, items, sink, face_actors, model_actors, cpus_per_actor, model_cpus,
                cluster_cpus, gpus_per_model_actor, device, batch_size, threshold, every, storage,
                items_per_task, log_every_s)
    sink.close()
    return predictions_of(collected, bundle, len(items)) if collect else sink


def _stream(ray, bundle, checkpoint, items, sink, face_actors, model_actors, cpus_per_actor, model_cpus,
            cluster_cpus, gpus, device, batch_size, threshold, every, storage, items_per_task, log_every_s) -> None:
    ds = ray.data.from_items([dict(order=o, source=i.source, kind=i.kind) for o, i in enumerate(items)],
                             override_num_blocks=max(1, min(len(items), (len(items) + items_per_task - 1) // items_per_task)))
    ds = ds.map_batches(FaceStage, fn_constructor_kwargs=dict(
        crop=bundle.crop.to_dict(), channels=bundle.channels, every=every, storage=dict(storage or {}),
        num_threads=max(1, int(cpus_per_actor))), batch_size=items_per_task, batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=face_actors), num_cpus=cpus_per_actor)
    dev = device or ("cuda" if gpus > 0 else "cpu")
    cpus = plan_cpus(float(ray.cluster_resources().get("CPU", 0.0)), cluster_cpus)
    m_cpus = model_actor_cpus(cpus, face_actors, cpus_per_actor, model_actors, model_cpus, on_gpu=gpus > 0)
    ds = ds.map_batches(ModelStage, fn_constructor_kwargs=dict(
        checkpoint=checkpoint, device=dev, batch_size=batch_size, threshold=threshold),
        batch_size=batch_size, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=model_actors),
        num_cpus=m_cpus, num_gpus=gpus)
    start = last = time.monotonic()
    progress, done, failed, rows = Progress("predict", len(items), "inputs"), 0, 0, 0
    for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
        done += sink.add(batch)
        failed += int((batch["outcome"] == UNREADABLE).sum())
        rows += len(batch["order"])
        progress.update(done, failures=failed, rows=rows)
        if time.monotonic() - last >= log_every_s:
            last = time.monotonic()
            progress.close()
            log.info("%s", progress.line())
    progress.close()
    log.info("predict: %d inputs, %d rows in %.1f s", done, rows, time.monotonic() - start)


def predictions_of(tables: Sequence[pa.Table], bundle: Any, inputs: int) -> Predictions:
    """Part tables (:class:`PartSink` output) as in-memory :class:`Predictions`."""
    from distlm.predict.parts import count
    from distlm.predict.schema import results_schema

    columns = results_schema(bundle).names
    out = Predictions(columns=columns)
    out.counts["inputs"] = inputs
    for t in tables:
        c = count(t)
        for k in ("frames", "faces", "no_face", "unreadable"):
            out.counts[k] += c[k]
        for r in t.to_pylist():
            if r["outcome"] == OK:
                out.append({k: r[k] for k in columns})
            elif r["outcome"] == NO_FACE:
                out.no_face.append({"input": r["input"], "frame": r["frame"], "timestamp": r["timestamp"]})
            else:
                out.errors.append({k: r[k] for k in ("input", "frame", "timestamp", "reason", "detail")})
    return out
