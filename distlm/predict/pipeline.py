"""The Ray Data prediction pipeline: inputs → face actors → model actors → rows.

::

    items (order, source, kind)
      └─ map_batches(FaceStage, actors)   decode / read video frames, detect, crop
      └─ map_batches(ModelStage, actors)  batched forward pass (CPU or GPU)
      └─ driver: face rows, no-face notes, errors (in input order)

Each stage is a callable class (one detector / one model per actor), as in
:class:`distlm.faces.FaceCropper`; the per-face work is the same code the
in-process :class:`~distlm.predict.Predictor` runs.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from distlm.faces import CropOptions
from distlm.images import DecodeError, decode_image, read_bytes
from distlm.checkpoint.bundle import load_bundle
from distlm.predict.defaults import FRAME_STEP
from distlm.predict.faces import FaceFinder
from distlm.predict.inputs import VIDEO, Item, video_frames
from distlm.predict.resources import model_actor_cpus, plan_cpus
from distlm.predict.results import FACE_COLUMNS, NO_FACE, Predictions
from distlm.predict.scoring import DEFAULT_THRESHOLD, Scorer, score_names
from distlm.telemetry.progress import Progress

log = logging.getLogger("distlm.predict")
OK, UNREADABLE = "ok", "unreadable"
_META = ("order", "source", "frame", "face", "x", "y", "w", "h", "det_score", "outcome", "reason", "detail")


class FaceStage:
    """``map_batches`` callable: items (``order``, ``source``, ``kind``) → one row per face.

    Frames without a face give one ``no_face`` row, unreadable inputs one
    ``unreadable`` row (``reason``, ``detail``); their ``crop`` is zeros.
    """

    def __init__(self, crop: Mapping[str, Any], channels: int, every: int = FRAME_STEP,
                 storage: Optional[Mapping[str, Any]] = None, num_threads: Optional[int] = None) -> None:
        self.finder = FaceFinder(CropOptions(**dict(crop)), channels, num_threads)
        self.every, self.storage = every, dict(storage or {})
        self.shape = (self.finder.options.size, self.finder.options.size, channels)

    def _frames(self, source: str, kind: str):
        if kind == VIDEO:
            yield from video_frames(source, self.every, self.storage)
        else:
            yield 0, decode_image(read_bytes(source, self.storage), source)

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        rows: List[Dict[str, Any]] = []
        crops: List[np.ndarray] = []
        blank = np.zeros(self.shape, np.uint8)
        # decode every item of the task first, then detect over all their frames at
        # once: the detector batches same-shape frames (photos of one camera, video frames)
        items: List[tuple] = []
        for order, source, kind in zip(batch["order"], batch["source"], batch["kind"]):
            base = {"order": int(order), "source": str(source), "frame": 0, "face": -1, "x": np.nan,
                    "y": np.nan, "w": np.nan, "h": np.nan, "det_score": np.nan, "reason": None, "detail": None}
            try:
                items.append((base, list(self._frames(str(source), str(kind))), None))
            except DecodeError as err:
                items.append((base, [], err))
        found_all = iter(self.finder.find([rgb for _, frames, _ in items for _, rgb in frames]))
        for base, frames, err in items:
            if err is not None:
                rows.append({**base, "frame": -1, "outcome": UNREADABLE, "reason": err.reason, "detail": str(err)})
                crops.append(blank)
                continue
            for f, _ in frames:
                found = next(found_all)
                if not found:
                    rows.append({**base, "frame": f, "outcome": NO_FACE})
                    crops.append(blank)
                for face in found:
                    x, y, w, h = (float(v) for v in face.box)
                    rows.append({**base, "frame": f, "face": face.index, "x": x, "y": y, "w": w, "h": h,
                                 "det_score": face.score, "outcome": OK})
                    crops.append(face.crop)
        out = {k: np.array([r[k] for r in rows], dtype=object if k in ("source", "outcome", "reason", "detail") else None)
               for k in _META}
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
            if values.dtype == object:
                full = np.full(n, None, dtype=object)
            else:
                full = np.full(n, np.nan, dtype=np.float64)
            full[ok] = values
            out[name] = full
        return out


def run_pipeline(checkpoint: str, items: Sequence[Item], *, detector: Optional[str] = None,
                 face_actors: int = 1, model_actors: int = 1, cpus_per_actor: float = 1.0,
                 model_cpus: Optional[float] = None, cluster_cpus: Optional[float] = None,
                 gpus_per_model_actor: float = 0.0, device: Optional[str] = None, batch_size: int = 64,
                 threshold: float = DEFAULT_THRESHOLD, every: int = FRAME_STEP, storage: Optional[Mapping[str, Any]] = None,
                 items_per_task: int = 4, log_every_s: float = 10.0) -> Predictions:
    """Predict on ``items`` with Ray Data (Ray must be initialised); rows in input order.

    Args:
        checkpoint: distlm checkpoint path (loaded once here, once per model actor).
        items: inputs from :func:`~distlm.predict.inputs.expand_inputs`.
        face_actors / model_actors: actor pool sizes of the two stages.
        cpus_per_actor: CPUs per face actor (also the detector's threads).
        model_cpus: CPUs reserved per CPU model actor (default: ``cpus_per_actor`` when it
            fits, else what the face actors leave; see :mod:`distlm.predict.resources`).
        gpus_per_model_actor: GPUs per model actor (device then defaults to CUDA).
        items_per_task: inputs per face-stage call.
        cluster_cpus: CPUs to plan for (an autoscaling cluster's maximum); default: the
            CPUs the cluster has now.
    """
    import ray
    import ray.data

    bundle = load_bundle(checkpoint, detector)
    names = score_names(bundle)
    out = Predictions(columns=list(FACE_COLUMNS) + names)
    out.counts["inputs"] = len(items)
    if not items:
        return out
    ds = ray.data.from_items([dict(order=o, source=i.source, kind=i.kind) for o, i in enumerate(items)],
                             override_num_blocks=max(1, min(len(items), (len(items) + items_per_task - 1) // items_per_task)))
    ds = ds.map_batches(FaceStage, fn_constructor_kwargs=dict(
        crop=bundle.crop.to_dict(), channels=bundle.channels, every=every, storage=dict(storage or {}),
        num_threads=max(1, int(cpus_per_actor))), batch_size=items_per_task, batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=face_actors), num_cpus=cpus_per_actor)
    dev = device or ("cuda" if gpus_per_model_actor > 0 else "cpu")
    cpus = plan_cpus(float(ray.cluster_resources().get("CPU", 0.0)), cluster_cpus)
    m_cpus = model_actor_cpus(cpus, face_actors, cpus_per_actor,
                              model_actors, model_cpus, on_gpu=gpus_per_model_actor > 0)
    ds = ds.map_batches(ModelStage, fn_constructor_kwargs=dict(
        checkpoint=checkpoint, device=dev, batch_size=batch_size, threshold=threshold),
        batch_size=batch_size, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=model_actors),
        num_cpus=m_cpus, num_gpus=gpus_per_model_actor)
    rows: List[Dict[str, Any]] = []
    start = last = time.monotonic()
    progress, seen, failed = Progress("predict", len(items), "inputs"), set(), 0
    for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
        keys = list(batch)
        for i in range(len(batch["order"])):
            rows.append({k: batch[k][i] for k in keys})
        seen.update(int(o) for o in batch["order"])
        failed += int((batch["outcome"] == UNREADABLE).sum())
        progress.update(len(seen), failures=failed, rows=len(rows))
        if time.monotonic() - last >= log_every_s:
            last = time.monotonic()
            progress.close()
            log.info("%s", progress.line())
    progress.close()
    rows.sort(key=lambda r: (int(r["order"]), int(r["frame"]), int(r["face"])))
    frames = set()
    for r in rows:
        source, frame = str(r["source"]), int(r["frame"])
        if r["outcome"] == UNREADABLE:
            out.counts["unreadable"] += 1
            out.errors.append({"source": source, "frame": None, "reason": r["reason"], "detail": r["detail"]})
            continue
        frames.add((int(r["order"]), frame))
        if r["outcome"] == NO_FACE:
            out.counts["no_face"] += 1
            out.no_face.append({"source": source, "frame": frame})
            continue
        rec = {"source": source, "frame": frame, "face": int(r["face"])}
        rec.update({k: float(r[k]) for k in ("x", "y", "w", "h", "det_score")})
        for name in names:
            v = r[name]
            v = v.item() if hasattr(v, "item") else v
            rec[name] = int(v) if name.endswith("_on") else v
        out.append(rec)
    out.counts["frames"], out.counts["faces"] = len(frames), len(out)
    log.info("predict: %s in %.1f s", out.summary(), time.monotonic() - start)
    return out
