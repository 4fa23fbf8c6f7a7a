"""The baselines of an evaluation: a seeded random ranking and a constant score."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from evaluation.protocol import Pair, Ranking, Row


def _id_keys(ids: Sequence[str]) -> np.ndarray:
    """Stable 64-bit keys of string ids (independent of order and of PYTHONHASHSEED)."""
    keys = [
        int.from_bytes(hashlib.blake2b(i.encode("utf-8"), digest_size=8).digest(), "little")
        for i in ids
    ]
    return np.array(keys, dtype=np.uint64)


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, element-wise on a uint64 array (wrapping arithmetic)."""
    x = x.copy()
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


class RandomMethod:
    """Seeded random scorer: ``score(need, talent)`` is a uniform draw in [0, 1).

    The draw is a hash of (seed, need id, talent id), so ``rank`` and ``score_pairs`` agree
    without storing a needs × talents matrix, and results do not depend on row order.

    Args:
        seed: the seed; the same seed gives the same scores.
        name: the method's name in the report.
    """

    def __init__(self, seed: int = 0, name: str = "random") -> None:
        self.name = name
        self.seed = seed
        self._seed_key = _mix64(np.array([seed], dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15))
        self._talents: Sequence[Row] | None = None
        self._talent_ids: list[str] = []
        self._talent_keys = np.zeros(0, dtype=np.uint64)

    def _scores(self, need_keys: np.ndarray, talent_keys: np.ndarray) -> np.ndarray:
        """Uniform [0, 1) scores for aligned (or broadcast) key arrays."""
        mixed = _mix64(_mix64(need_keys ^ self._seed_key) ^ talent_keys)
        return (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)

    def rank(self, needs: Sequence[Row], talents: Sequence[Row], k: int) -> Ranking:
        """Top ``k`` talents per need by random score.

        Args:
            needs: need rows (``"id"`` is read).
            talents: talent rows (``"id"`` is read).
            k: list length.

        Returns:
            ``{need_id: [(talent_id, score), ...]}``, best first.
        """
        if talents is not self._talents:  # hash the talent ids once per talent set
            self._talents = talents
            self._talent_ids = [str(t["id"]) for t in talents]
            self._talent_keys = _id_keys(self._talent_ids)
        talent_ids, talent_keys = self._talent_ids, self._talent_keys
        need_ids = [str(n["id"]) for n in needs]
        out: Ranking = {}
        for need_id, need_key in zip(need_ids, _id_keys(need_ids), strict=True):
            scores = self._scores(np.full(len(talent_keys), need_key), talent_keys)
            out[need_id] = top_k(talent_ids, scores, k)
        return out

    def score_pairs(self, pairs: Sequence[Pair]) -> np.ndarray:
        """Random score of each pair (same values as in :meth:`rank`).

        Args:
            pairs: ``(need_id, talent_id)`` pairs.

        Returns:
            Float array, one score per pair.
        """
        if not pairs:
            return np.zeros(0)
        need_keys = _id_keys([p[0] for p in pairs])
        talent_keys = _id_keys([p[1] for p in pairs])
        return self._scores(need_keys, talent_keys)


class ConstantMethod:
    """Scores every pair the same (``value``); ranks talents in input order.

    Args:
        value: the constant score.
        name: the method's name in the report.
    """

    def __init__(self, value: float = 0.0, name: str = "constant") -> None:
        self.name = name
        self.value = float(value)

    def rank(self, needs: Sequence[Row], talents: Sequence[Row], k: int) -> Ranking:
        """The first ``k`` talents, in input order, for every need.

        Args:
            needs: need rows.
            talents: talent rows.
            k: list length.

        Returns:
            ``{need_id: [(talent_id, value), ...]}``.
        """
        head = [(str(t["id"]), self.value) for t in talents[:k]]
        return {str(n["id"]): list(head) for n in needs}

    def score_pairs(self, pairs: Sequence[Pair]) -> np.ndarray:
        """``value`` for every pair.

        Args:
            pairs: ``(need_id, talent_id)`` pairs.

        Returns:
            Float array filled with ``value``.
        """
        return np.full(len(pairs), self.value, dtype=float)


def top_k(ids: Sequence[str], scores: np.ndarray, k: int) -> list[tuple[str, float]]:
    """The ``k`` best (id, score), best first, ties broken by input order."""
    k = min(k, len(ids))
    if k <= 0:
        return []
    idx = np.argpartition(-scores, k - 1)[:k] if k < len(ids) else np.arange(len(ids))
    idx = idx[np.lexsort((idx, -scores[idx]))]
    return [(ids[i], float(scores[i])) for i in idx]
