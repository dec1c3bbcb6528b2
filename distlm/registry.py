"""A tiny explicit registry: named factories with ``create``/``list``.

Every named thing in distlm (losses, centroid strategies, formula sets, models,
readers, weighting rules) lives in one of these. Registration is explicit
(``@REG.register("name")``) and an unknown name raises with the known ones.

Example::

    LOSSES = Registry("loss")

    @LOSSES.register("lm")
    class LargeMarginLoss(...): ...

    LOSSES.create("lm", num_classes=7)
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Generic, List, TypeVar

from distlm.errors import UserError

T = TypeVar("T")


class UnknownNameError(UserError, KeyError):
    """A name no registry entry has; the message lists the known ones."""

    def __str__(self) -> str:  # a KeyError would quote its message
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Maps names to factories (classes or functions)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: Dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = factory
            return factory

        return deco

    def unregister(self, name: str) -> Callable[..., T]:
        """Remove ``name`` and return its factory (a plugin being unloaded, a test
        cleaning up after itself); an unknown name raises like `get`."""
        factory = self.get(name)
        del self._items[name]
        return factory

    def get(self, name: str) -> Callable[..., T]:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "(none)"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def create(self, name: str, /, **kwargs: Any) -> T:
        return self.get(name)(**kwargs)

    def list(self) -> List[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items
