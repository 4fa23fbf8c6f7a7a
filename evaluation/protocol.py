"""The protocol of a method under evaluation and the types it speaks (see
:mod:`evaluation.methods` for the calls and their order)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

Row = Mapping[str, Any]
Ranking = dict[str, list[tuple[str, float]]]
Pair = tuple[str, str]

FLOOR_SCORE = float("-inf")
"""Score of a (need, talent) pair outside the method's candidate list for that need."""

DEFAULT_PAIR_DEPTH = 1000
"""Candidates kept per need for pair scores when the talent set is larger than this."""


@runtime_checkable
class Method(Protocol):
    """What the evaluator needs of a method."""

    name: str

    def rank(self, needs: Sequence[Row], talents: Sequence[Row], k: int) -> Ranking:
        """Rank talents for each need; at most ``k`` per need, best first."""
        ...

    def score_pairs(self, pairs: Sequence[Pair]) -> np.ndarray:
        """Score of each ``(need_id, talent_id)`` pair, called after :meth:`rank`."""
        ...
