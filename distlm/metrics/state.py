"""`CountMetric`: a base for metrics whose state is tensors of counts.

Each subclass declares its state once with ``add_state(name, zeros, reduce="sum")``;
``reset`` and ``sync`` then act on every declared tensor, so no count can be
forgotten by the all-reduce.
"""
from __future__ import annotations

from typing import Dict, Optional

import torch
import torch.distributed as dist
from torch import Tensor

from distlm.distributed.reduce import REDUCE_OPS  # how a declared state is combined across processes


class CountMetric:
    """State = named count tensors, each with its cross-process reduction.

    ``sync()`` all-reduces them in place when ``torch.distributed`` is initialised
    (a no-op otherwise, or when already synced). After a sync the state is global:
    ``update`` raises until ``reset()``, so counts cannot be reduced twice.
    """

    def __init__(self, device: Optional[torch.device | str] = None) -> None:
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self._defaults: Dict[str, Tensor] = {}
        self._reduce: Dict[str, str] = {}
        self._state: Dict[str, Tensor] = {}
        self._synced = False

    def add_state(self, name: str, default: Tensor, reduce: str = "sum") -> None:
        """Declare a state tensor, its initial value and how processes combine it."""
        if reduce not in REDUCE_OPS:
            raise ValueError(f"{type(self).__name__}: unknown reduction {reduce!r}; known: {sorted(REDUCE_OPS)}")
        if name in self._defaults:
            raise ValueError(f"{type(self).__name__}: state {name!r} is declared twice")
        self._defaults[name] = default.detach().clone()
        self._reduce[name] = reduce
        self._state[name] = default.detach().clone().to(self.device)

    def state(self, name: str) -> Tensor:
        """The current value of a declared state (do not modify it in place)."""
        return self._state[name]

    def _accumulate(self, name: str, value: Tensor) -> None:
        if self._synced:
            raise RuntimeError(
                f"{type(self).__name__}: update() after sync(); call reset() first "
                f"(the synced counts are already global)"
            )
        op = self._reduce[name]
        cur = self._state[name]
        value = value.to(cur.device, cur.dtype)
        self._state[name] = cur + value if op == "sum" else (
            torch.maximum(cur, value) if op == "max" else torch.minimum(cur, value)
        )

    def reset(self) -> None:
        """Back to the declared initial values (unsynced)."""
        self._state = {k: v.clone().to(self.device) for k, v in self._defaults.items()}
        self._synced = False

    def to(self, device: torch.device | str) -> "CountMetric":
        """Keep the state on ``device`` (the device of the inputs avoids copies)."""
        self.device = torch.device(device)
        self._state = {k: v.to(self.device) for k, v in self._state.items()}
        return self

    def sync(self, group: Optional["dist.ProcessGroup"] = None) -> None:
        """All-reduce every declared state across the processes of ``group``."""
        if self._synced or not (dist.is_available() and dist.is_initialized()):
            return
        from distlm.distributed import all_reduce

        for name, op in self._reduce.items():
            self._state[name] = all_reduce(self._state[name], op, group)
        self._synced = True

    @property
    def synced(self) -> bool:
        return self._synced
