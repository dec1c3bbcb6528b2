"""Spec fields whose valid values are the names in a registry.

A field annotated ``registered("distlm.losses", "LOSSES")`` accepts exactly the
names that registry holds *when the spec is loaded*: the names are never copied
into the schema, so an entry registered later (a user plugin) is accepted and a
removed one is not. The registry's package is imported only when a value is
checked, so ``import distlm.config`` stays free of torch.

    >>> Supervised = registered("distlm.train.supervised", "SUPERVISED")
    >>> registry_choice(Supervised).names()
    ['bce', 'ce', 'mse', 'mse_linear']
"""
from __future__ import annotations

import importlib
import typing
from dataclasses import dataclass
from typing import Annotated, Any, List, Optional, Tuple

from distlm.config.errors import closest


@dataclass(frozen=True)
class RegistryChoice:
    """Where the valid names of a field live.

    Attributes:
        module: the package whose import registers every built-in entry
            (e.g. ``distlm.losses``, whose ``__init__`` imports each loss module).
        attr: the `~distlm.registry.Registry` in that module (e.g. ``LOSSES``).
        extra: names the field also accepts that are not registry entries
            (``loss.aux: none``).
        what: how errors call a value (default: the registry's own ``kind``).
    """

    module: str
    attr: str
    extra: Tuple[str, ...] = ()
    what: Optional[str] = None

    def registry(self) -> Any:
        return getattr(importlib.import_module(self.module), self.attr)

    def names(self) -> List[str]:
        """Every valid value now, sorted: the registry's names and ``extra``."""
        return sorted({*self.extra, *self.registry().list()})

    def label(self) -> str:
        return self.what or self.registry().kind

    def problem(self, value: str) -> Optional[str]:
        """None when ``value`` is a valid name, else the error text (with the list)."""
        known = self.names()
        if value in known:
            return None
        guess = closest(value, known)
        hint = f" (did you mean {guess!r}?)" if guess else ""
        return f"unknown {self.label()} {value!r}{hint}; known: {', '.join(known)}"


def registered(module: str, attr: str, *extra: str, what: Optional[str] = None) -> Any:
    """The annotation of a string field that takes a name of ``module.attr``."""
    return Annotated[str, RegistryChoice(module, attr, tuple(extra), what)]


def registry_choice(tp: Any) -> Optional[RegistryChoice]:
    """The `RegistryChoice` an annotation carries (``Optional[...]`` looked into), or None."""
    if typing.get_origin(tp) is typing.Union:
        found = [registry_choice(a) for a in typing.get_args(tp)]
        return next((c for c in found if c is not None), None)
    if typing.get_origin(tp) is Annotated:
        return next((m for m in tp.__metadata__ if isinstance(m, RegistryChoice)), None)
    return None
