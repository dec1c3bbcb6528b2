"""Typed options of ``distlm.prepare``."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Optional

from distlm.errors import UserError
from distlm.faces.options import CropOptions
from distlm.images.decode import ALPHA_MODES, DEFAULT_MAX_PIXELS
from distlm.prepare.order import ORDERS


@dataclass(frozen=True)
class PrepareOptions:
    """Everything ``prepare`` needs besides input and output.

    Attributes:
        crop: face detection / crop options (detector, size, margin, choose, align...).
        shard_size: inputs per block (one shard and one manifest part each).
        actors: FaceCropper actors (one detector each); with ``max_actors`` the
            smallest size of an autoscaling pool.
        max_actors: the pool's largest size; None: ``actors`` fixed.
        cpus_per_actor: CPUs per actor (also the detector's thread count).
        gpus_per_actor: GPUs per actor (0: CPU actors).
        storage: S3 options for input and output (``endpoint_url``, ``region``, ...).
        max_pixels: decompression-bomb cap per image.
        alpha: transparency handling (``black`` | ``white`` | ``drop``).
        draft: decode large JPEGs reduced (PIL ``draft``) for detection, cutting a crop
            from the reduced pixels when they hold it at full resolution
            (:mod:`distlm.faces.source`); off, every file is decoded at full size and the
            crops equal ``distlm.predict``'s byte for byte.
        address: Ray address; None: an existing cluster if ``ray.init(address="auto")``
            finds one, else a new local instance; ``"local"``: always a new local one.
        num_cpus: CPUs of a new local Ray instance (None: all).
        metrics_port: Prometheus port (0/None off, -1 any free; see distlm.telemetry).
        metrics_linger_s: after the run, keep serving the metrics up to this many
            seconds (SIGTERM/SIGINT ends it early), so a scraper sees the final values.
        log_every_s: seconds between progress log lines.
        overwrite: delete an existing, incompatible output instead of refusing.
        order: how the inputs to crop are spread over the blocks (``distlm.prepare.order``):
            ``mixed`` (default) a fixed hash order, every shard a sample of the whole set;
            ``id`` consecutive ids (a ``folder`` source gives shards of one class).
    """

    crop: CropOptions = field(default_factory=CropOptions)
    shard_size: int = 256
    actors: int = 1
    max_actors: Optional[int] = None
    cpus_per_actor: float = 1.0
    gpus_per_actor: float = 0.0
    storage: Dict[str, Any] = field(default_factory=dict)
    max_pixels: int = DEFAULT_MAX_PIXELS
    alpha: str = "black"
    draft: bool = False
    address: Optional[str] = None
    num_cpus: Optional[int] = None
    metrics_port: Optional[int] = None
    metrics_linger_s: float = 0.0
    log_every_s: float = 10.0
    overwrite: bool = False
    order: str = "mixed"

    def __post_init__(self) -> None:
        if self.shard_size < 1:
            raise UserError(f"shard_size must be >= 1, got {self.shard_size}")
        if self.actors < 1:
            raise UserError(f"actors must be >= 1, got {self.actors}")
        if self.max_actors is not None and self.max_actors < self.actors:
            raise UserError(f"max_actors must be >= actors ({self.actors}), got {self.max_actors}")
        if self.alpha not in ALPHA_MODES:
            raise UserError(f"alpha must be one of {sorted(ALPHA_MODES)}, got {self.alpha!r}")
        ORDERS.get(self.order)  # an unknown order raises with the known ones

    def fingerprint(self) -> Dict[str, Any]:
        """The options that change a crop (recorded in ``_prepare.json``, part of every
        input's key); ``shard_size`` and ``order`` only lay out new blocks."""
        return {"crop": asdict(self.crop), "max_pixels": self.max_pixels, "alpha": self.alpha, "draft": self.draft}

    @classmethod
    def from_kwargs(cls, **kw: Any) -> "PrepareOptions":
        """Flat keywords: crop fields (``detector``, ``size``, ...) and the rest mixed."""
        crop_fields = CropOptions.__dataclass_fields__
        crop = kw.pop("crop", None)
        crop_kw = {k: kw.pop(k) for k in list(kw) if k in crop_fields}
        if crop is None:
            crop = CropOptions(**crop_kw)
        elif crop_kw:
            crop = CropOptions(**{**asdict(crop), **crop_kw})
        unknown = set(kw) - set(cls.__dataclass_fields__)
        if unknown:
            known = sorted(set(cls.__dataclass_fields__) | set(crop_fields))
            raise TypeError(f"unknown prepare option(s) {sorted(unknown)}; known: {known}")
        return cls(crop=crop, **kw)
