"""Package attributes imported on first use, so that ``python -m distlm.<command>
--help`` and ``import distlm.<package>`` stay light (torch, Ray and TensorFlow load
only when something that needs them is touched).

Usage in a package ``__init__``::

    __getattr__, __all__ = lazy_exports(__name__, {"Predictor": "distlm.predict.predictor"})
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, List, Tuple


def lazy_exports(package: str, names: Dict[str, str]) -> Tuple[Callable[[str], Any], List[str]]:
    """A module ``__getattr__`` resolving each of ``names`` (attribute → module) on use."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(names[name]), name)

    return __getattr__, sorted(names)
