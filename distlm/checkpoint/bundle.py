"""Everything a predictor needs, read from one checkpoint (:class:`Bundle`).

A checkpoint written by ``distlm.train`` carries the resolved job spec (model,
class names or AU ids, image size, channels), the normalisation statistics, the
face-crop settings used for the training crops (``preprocess``) and, for AU models,
the pseudo-emotion formula matrix. Older checkpoints without ``preprocess`` get the
crop defaults (``none`` for Fashion-MNIST jobs).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import torch

from distlm.config import spec_from_dict
from distlm.data.loading import NormStats
from distlm.faces import CropOptions
from distlm.models import EmbeddingNet, create_model
from distlm.checkpoint.state import CheckpointError, inference_weights, load_state, norm_of

CROP_FIELDS = {f.name for f in dataclasses.fields(CropOptions)}


@dataclass
class Bundle:
    """A loaded model and how to feed it.

    Attributes:
        model: the network in eval mode (CPU until moved).
        spec: the training job spec (``JobSpec``).
        norm: per-channel mean/std in uint8 units.
        crop: face detection / crop options (``size`` = the model's image size).
        channels: input channels (1: crops are made grey).
        kind: ``expressions`` or ``aus``.
        names: class names (expressions) or ``AU01``-style ids (aus), in output order.
        emotions: pseudo-emotion names of an AU model (empty if none).
        formula: ``(M, K)`` matrix mapping AU scores to pseudo-emotion scores, or None.
        path: the checkpoint file.
    """

    model: EmbeddingNet
    spec: Any
    norm: NormStats
    crop: CropOptions
    channels: int
    kind: str
    names: List[str]
    emotions: List[str]
    formula: Optional[torch.Tensor]
    path: str

    @property
    def image_size(self) -> int:
        return int(self.spec.data.image_size)

    def metadata(self) -> Dict[str, str]:
        """Preprocessing constants as strings (for ONNX / TorchScript metadata)."""
        import json

        return {
            "distlm.kind": self.kind, "distlm.names": json.dumps(self.names),
            "distlm.emotions": json.dumps(self.emotions),
            "distlm.mean": json.dumps(list(self.norm.mean)), "distlm.std": json.dumps(list(self.norm.std)),
            "distlm.image_size": str(self.image_size), "distlm.channels": str(self.channels),
            "distlm.layout": "NCHW float32 = (pixels_uint8 - mean) / std",
            "distlm.head": self.spec.model.head, "distlm.crop": json.dumps(self.crop.to_dict()),
            "distlm.formula": json.dumps(None if self.formula is None else self.formula.tolist()),
        }


def au_name(au: int) -> str:
    return f"AU{int(au):02d}"


def _crop_options(state: Dict[str, Any], spec: Any, detector: Optional[str]) -> CropOptions:
    pre = dict(state.get("preprocess") or {})
    if not pre:
        pre = {"detector": "none" if spec.data.labelled.format == "fmnist" else "mtcnn"}
    crop = {k: v for k, v in pre.items() if k in CROP_FIELDS}
    crop["size"] = int(spec.data.image_size)  # the model's input: crops are made at this size
    if detector is not None:
        crop["detector"] = detector
        if detector != pre.get("detector"):
            crop["detector_kwargs"] = {}
    return CropOptions(**crop)


def _formula(state: Dict[str, Any], spec: Any) -> tuple:
    saved = state.get("formulas")
    if saved:
        return list(saved["emotions"]), torch.tensor(saved["matrix"], dtype=torch.float32)
    name = spec.selflabel.formulas or "emfacs"
    try:
        from distlm.formulas import job_formulas

        fs = job_formulas(spec, name)
        return fs.emotions, fs.matrix.detach().float().cpu()
    except Exception:  # an AU set the formulas cannot cover: no pseudo-emotions
        return [], None


def load_bundle(path: str, detector: Optional[str] = None) -> Bundle:
    """Read a checkpoint (file or folder) into a :class:`Bundle`.

    Args:
        path: ``.../state.pt`` or the folder holding it.
        detector: override the checkpoint's face detector (``mtcnn`` | ``haar`` | ``none``).

    Raises:
        CheckpointError: not a distlm checkpoint, a foreign pickle, or one without
            a model and job spec.
    """
    return bundle_from_state(load_state(path), str(path), detector)


def bundle_from_state(state: Dict[str, Any], path: str, detector: Optional[str] = None) -> Bundle:
    """:func:`load_bundle` of a state already read (``path`` names it in errors)."""
    missing = [k for k in ("model", "spec", "norm") if k not in state]
    if missing:
        raise CheckpointError(f"{path}: a distlm checkpoint without {missing}; cannot predict with it")
    try:
        spec = spec_from_dict(state["spec"], source=f"{path}:spec")
    except ValueError as err:
        raise CheckpointError(f"{path}: the saved job spec is invalid: {err}") from None
    model = create_model(spec, pretrained=None)
    try:
        model.load_state_dict(inference_weights(state))
    except RuntimeError as err:
        raise CheckpointError(f"{path}: weights do not fit the saved model spec: {err}") from None
    model.eval()
    norm = norm_of(state)
    kind = spec.scenario
    if kind == "aus":
        names = [au_name(a) for a in spec.data.au_ids]
        emotions, formula = _formula(state, spec)
    else:
        names, emotions, formula = list(spec.data.class_names), [], None
    return Bundle(model, spec, norm, _crop_options(state, spec, detector), int(spec.data.channels), kind,
                  names, emotions, formula, str(path))
