"""`FormulaSet`: the differentiable map from id scores to pseudo-emotion scores."""
from __future__ import annotations

from typing import Dict, List, Sequence

import torch
from torch import Tensor, nn

from distlm.formulas.errors import FormulaError
from distlm.formulas.spec import Formula


class FormulaSet(nn.Module):
    """``p = a @ W``: ``(B, M)`` id scores -> ``(B, K)`` pseudo-emotion scores.

    Each column of the buffer ``W (M, K)`` holds formula ``k``'s weights divided by
    their total, so ``p[:, k]`` is the (weighted) mean of the scores of its ids.
    Build one with `distlm.formulas.load_formulas`.

    Example::

        >>> fs = load_formulas("emfacs", aus=[1, 2, 4, 5, 6, 9, 12, 17, 20, 25, 26, 43])
        >>> fs(torch.rand(8, 12)).shape
        torch.Size([8, 6])
    """

    weight: Tensor

    def __init__(
        self,
        formulas: List[Formula],
        au_ids: Sequence[int],
        matrix: Tensor,
        source: str = "",
        names: Dict[int, str] | None = None,
    ) -> None:
        super().__init__()
        if matrix.shape != (len(au_ids), len(formulas)):
            raise ValueError(f"matrix shape {tuple(matrix.shape)} != (M={len(au_ids)}, K={len(formulas)})")
        self._formulas = list(formulas)
        self._au_ids = list(au_ids)
        self.source = source
        self.names: Dict[int, str] = dict(names or {})
        self.register_buffer("weight", matrix)

    @property
    def emotions(self) -> List[str]:
        """The K pseudo-emotion names, in output-column order."""
        return [f.name for f in self._formulas]

    @property
    def au_ids(self) -> List[int]:
        """The M ids, in the order of the network's output columns."""
        return list(self._au_ids)

    @property
    def matrix(self) -> Tensor:
        """The weight matrix ``W (M, K)``."""
        return self.weight

    def _column(self, emotion: str) -> int:
        try:
            return self.emotions.index(emotion)
        except ValueError:
            known = ", ".join(self.emotions)
            raise FormulaError(f"{self.source}: unknown emotion {emotion!r}; known: {known}") from None

    def aus(self, emotion: str) -> List[int]:
        """Sorted ids that ``emotion`` uses (after restriction)."""
        return sorted(self._formulas[self._column(emotion)].weights)

    def weights(self, emotion: str) -> Dict[int, float]:
        """Normalised weights id -> w of ``emotion`` (they sum to 1), from ``W``."""
        col = self.weight[:, self._column(emotion)]
        return {i: float(col[m]) for m, i in enumerate(self._au_ids) if col[m] != 0}

    def forward(self, au_scores: Tensor) -> Tensor:
        """``(B, M)`` scores -> ``(B, K)`` pseudo-emotion scores (differentiable)."""
        if au_scores.dim() != 2 or au_scores.shape[1] != len(self._au_ids):
            raise ValueError(
                f"FormulaSet({self.source}): expected scores of shape (B, {len(self._au_ids)}) "
                f"for ids {self._au_ids}, got {tuple(au_scores.shape)}"
            )
        return au_scores @ self.weight.to(dtype=au_scores.dtype, device=au_scores.device)

    @torch.no_grad()
    def assign(self, au_scores: Tensor) -> Tensor:
        """``(B, M)`` scores -> ``(B,)`` long pseudo-classes (argmax; ties go to the
        first emotion in order)."""
        return self(au_scores).argmax(dim=1)

    def extra_repr(self) -> str:
        parts = ", ".join(f"{f.name}={sorted(f.weights)}" for f in self._formulas)
        return f"source={self.source!r}, M={len(self._au_ids)}, K={len(self._formulas)}: {parts}"
