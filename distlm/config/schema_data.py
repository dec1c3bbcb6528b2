"""The ``data`` section of a job spec: where samples come from (typed, pure data).

Every field is documented in docs/jobs.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Optional, Union

from distlm.config.schema_crop import CropSpec

#: Reader names the data layer registers (``distlm.data``); checked by `validate_job`.
KNOWN_FORMATS = (
    "rafdb", "emotionet", "affectnet", "disfa", "bp4d",
    "folder", "csv", "images", "fmnist", "parquet", "synthetic",
)

FMNIST_PATH = "/usr/share/datasets/fashion-mnist"


@dataclass
class SourceSpec:
    """One data source: a reader (by registry name), its path and reader options.

    ``path`` is a local path (relative to the launch directory) or an ``s3://`` URL.
    ``options`` go to the reader as keyword arguments (e.g. ``{split: test}``).
    """

    format: str = "fmnist"
    path: str = FMNIST_PATH
    options: Dict[str, Any] = field(default_factory=dict)


@dataclass
class StorageSpec:
    """S3 options shared by every ``s3://`` path. Credentials come from the
    environment (``AWS_ACCESS_KEY_ID``...), never from the spec."""

    endpoint_url: Optional[str] = None
    region: Optional[str] = None
    anon: bool = False


@dataclass
class DataSpec:
    """Labelled, unlabelled and test sources plus the tensor geometry."""

    labelled: SourceSpec = field(default_factory=SourceSpec)
    unlabelled: Optional[SourceSpec] = None
    test: Optional[SourceSpec] = None
    image_size: int = 227
    channels: int = 3
    labels_per_class: Optional[int] = None   # fmnist protocol: N labelled per class
    unlabelled_ratio: float = 1.0            # unlabelled samples per labelled one in a batch
    shuffle_buffer: Union[int, Literal["auto"]] = "auto"  # ray loader: rows per side (0: none); auto: from shuffle_buffer_mb
    shuffle_buffer_mb: int = 1024            # ray loader, shuffle_buffer auto: MiB of each worker's shuffle buffers
    deterministic_reads: bool = False        # ray loader: fixed block order (bit-reproducible runs, slower reads)
    au_ids: List[int] = field(default_factory=list)        # aus scenario: annotated AUs
    class_names: List[str] = field(default_factory=list)   # expressions scenario
    storage: StorageSpec = field(default_factory=StorageSpec)
    cache: Optional[str] = None              # crops of raw-image sources (default <run.storage_path>/crops)
    crop: CropSpec = field(default_factory=CropSpec)   # how raw-image sources are cropped
