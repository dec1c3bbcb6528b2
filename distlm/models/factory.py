"""`create_model` / `list_models`: build an `EmbeddingNet` from a spec or keywords."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Mapping, Optional, Union

from distlm.models.embedding_net import EmbeddingNet
from distlm.models.pretrained import load_pretrained
from distlm.models.registry import HEADS, MODELS
from distlm.models.torchvision_net import torchvision_archs

TORCHVISION_PREFIX = "torchvision:"


def list_models(include_torchvision: bool = True) -> List[str]:
    """Registered backbones, with ``torchvision:<arch>`` spelled out for every arch."""
    names = [n for n in MODELS.list() if n != "torchvision"]
    if include_torchvision:
        names += [TORCHVISION_PREFIX + a for a in torchvision_archs()]
    return names


def _kwargs_from(spec: Any) -> Dict[str, Any]:
    """Factory keywords from a JobSpec, a ModelSpec or a mapping."""
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        return dict(spec)
    if hasattr(spec, "model") and hasattr(spec, "data"):  # a JobSpec
        m = spec.model
        return dict(name=m.name, embedding_dim=m.embedding_dim, head=m.head, pretrained=m.pretrained,
                    options=dict(m.options), num_outputs=spec.num_outputs,
                    in_channels=spec.data.channels, image_size=spec.data.image_size)
    if dataclasses.is_dataclass(spec):  # a ModelSpec: num_outputs etc. come as keywords
        # ``compile`` is how the trainer runs the network, not what the network is
        return {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name != "compile"}
    raise TypeError(f"create_model: expected a JobSpec, ModelSpec or mapping, got {type(spec).__name__}")


FIXED = ("in_channels", "image_size", "embedding_dim")  # set from the spec's data/model keys, not options


def check_options(name: str, options: Optional[Mapping[str, Any]]) -> None:
    """Raise :class:`UserError` for an unknown backbone or a ``model.options`` key its
    factory does not take (naming the keys it does take)."""
    import inspect
    import typing

    from distlm.errors import UserError
    from distlm.registry import UnknownNameError

    reg = "torchvision" if name.startswith(TORCHVISION_PREFIX) else name
    if reg not in MODELS or name == "torchvision":
        raise UnknownNameError(f"model.name: unknown model {name!r}; known: {', '.join(list_models(False))}, "
                               f"torchvision:<arch>")
    factory = MODELS.get(reg)
    params = dict(inspect.signature(factory).parameters)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        # ``**options`` forwarded to the module the factory returns: its constructor says
        target = typing.get_type_hints(factory).get("return")
        params = {k: v for k, v in params.items() if v.kind is not inspect.Parameter.VAR_KEYWORD}
        params.update(inspect.signature(target.__init__).parameters if isinstance(target, type) else {})
        params.pop("self", None)
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()) or not isinstance(target, type):
            return  # e.g. torchvision's models: their own get_model checks
    known = [k for k in params if k not in FIXED + ("arch",)]
    bad = sorted(set(options or {}) - set(known))
    if bad:
        raise UserError(f"model.options: {', '.join(repr(b) for b in bad)} not taken by model {name!r}; "
                        f"its options: {', '.join(known) or 'none'}")


def build_model(name: str, num_outputs: int, *, head: str = "softmax", embedding_dim: Optional[int] = None,
                in_channels: int = 3, image_size: int = 227, pretrained: Optional[str] = None,
                options: Optional[Mapping[str, Any]] = None) -> EmbeddingNet:
    """Backbone ``name`` + head ``head`` with ``num_outputs`` outputs; then weights."""
    check_options(name, options)
    kw = dict(options or {})
    if name.startswith(TORCHVISION_PREFIX):
        kw["arch"] = name[len(TORCHVISION_PREFIX):]
        name = "torchvision"
    elif name == "torchvision":
        raise KeyError("name a torchvision model as 'torchvision:<arch>', e.g. 'torchvision:resnet18'")
    backbone = MODELS.create(name, in_channels=in_channels, image_size=image_size,
                             embedding_dim=embedding_dim, **kw)
    model = EmbeddingNet(backbone, HEADS.create(head, in_dim=backbone.out_dim, num_outputs=num_outputs), head)
    if pretrained:
        load_pretrained(model, pretrained)
    return model


def create_model(spec: Union[Any, Mapping[str, Any], None] = None, /, **kwargs: Any) -> EmbeddingNet:
    """Build a model from a `JobSpec` (everything derived), a `ModelSpec` plus
    ``num_outputs=`` (and optionally ``in_channels``/``image_size``), or keywords.

    >>> m = create_model(name="small_cnn", num_outputs=10, in_channels=1, image_size=28)
    >>> out = m(torch.zeros(2, 1, 28, 28)); out.embedding.shape, out.logits.shape
    (torch.Size([2, 128]), torch.Size([2, 10]))
    """
    kw = {**_kwargs_from(spec), **kwargs}
    if "name" not in kw or "num_outputs" not in kw:
        raise TypeError("create_model needs at least name= and num_outputs=")
    return build_model(kw.pop("name"), kw.pop("num_outputs"), **kw)
