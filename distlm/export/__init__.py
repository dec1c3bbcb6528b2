"""Export a checkpoint's model to ONNX or TorchScript with its preprocessing constants.

The exported graph takes ``images (B, C, S, S) float32`` already normalised as
``(pixels_uint8 - mean) / std`` and returns ``scores`` (softmax probabilities or
AU scores, ``(B, K)``), ``logits (B, K)`` and ``embedding (B, D)``. ``mean``, ``std``,
``image_size``, ``channels``, class names / AU ids and the crop settings are in the
file's metadata (ONNX ``metadata_props``; TorchScript ``_extra_files['distlm.json']``).
"""
from distlm.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "ScoresModule": "distlm.export.onnx",
    "export_onnx": "distlm.export.onnx",
    "export_torchscript": "distlm.export.onnx",
})
