"""Models: a backbone registry (``alexnet``, ``small_cnn``, ``torchvision:<arch>``)
and heads (``softmax``, ``sigmoid``, ``linear``) behind one contract: every model
returns `ModelOutput(embedding (B, D), logits (B, K))`.

Public API::

    create_model(job_spec | model_spec | mapping, **kw) -> EmbeddingNet
    with_memory_format(model, channels_last) -> model
    EMAWeights(model, momentum)  (EMA teacher / weight average)
    list_models() -> list[str]
    load_pretrained(model, path) -> LoadReport
    MODELS, HEADS (registries), ModelOutput, EmbeddingNet
"""
# Explicit imports register the entries; an import error here is never hidden.
from distlm.models import alexnet, heads, small_cnn, torchvision_net  # noqa: F401
from distlm.models.ema import EMAWeights
from distlm.models.embedding_net import EmbeddingNet
from distlm.models.factory import build_model, create_model, list_models
from distlm.models.memory_format import with_memory_format
from distlm.models.output import ModelOutput
from distlm.models.pretrained import LoadReport, load_pretrained, read_state_dict
from distlm.models.registry import HEADS, MODELS

__all__ = [
    "MODELS", "HEADS", "ModelOutput", "EmbeddingNet", "create_model", "build_model", "list_models",
    "load_pretrained", "read_state_dict", "LoadReport", "with_memory_format", "EMAWeights",
]
