"""Ranking metrics over graded relevance labels, and the pairwise loss.

Conventions (shared by every function here):

* A *ranked list* is a sequence of talent ids, best first, as a method returned it (truncated
  at the evaluation depth). Ties in score keep the order the method gave; nothing here
  re-sorts.
* A *judgement* for one need is a mapping ``talent_id -> relevance`` (a float ≥ 0). A talent
  is *relevant* when its relevance is > 0. Talents missing from the judgement count as 0.
* **Gain is linear**: a document at rank ``i`` (1-based) contributes ``rel / log2(i + 1)``.
  This is trec_eval's ``ndcg_cut`` and scikit-learn's ``ndcg_score`` convention (not the
  exponential ``2**rel - 1`` variant).
* The **ideal DCG** of a need is computed from *all* its judged relevances, not only those
  that the method retrieved, so a method that misses relevant talents is penalised.
* Per-need metrics return ``None`` for a need without any relevant talent; the averages
  (:func:`mean_defined`) skip those needs.
* MRR and MAP are computed over the ranked list as given (the evaluation depth, ``k_max``):
  a relevant talent that the method did not return contributes nothing (precision 0), and a
  need whose first relevant talent is not returned has reciprocal rank 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

Judgement = Mapping[str, float]
"""Relevance of judged talents for one need: ``talent_id -> relevance``."""


def _gains(ranked: Sequence[str], judgement: Judgement) -> np.ndarray:
    """Relevance of each ranked talent, 0 where unjudged."""
    return np.fromiter((judgement.get(t, 0.0) for t in ranked), dtype=float, count=len(ranked))


def _discounts(n: int) -> np.ndarray:
    """``1 / log2(rank + 1)`` for ranks 1..n."""
    return 1.0 / np.log2(np.arange(2, n + 2, dtype=float))


def _n_relevant(judgement: Judgement) -> int:
    """How many judged talents have relevance > 0."""
    return sum(1 for v in judgement.values() if v > 0)


def dcg(gains: np.ndarray, k: int) -> float:
    """Discounted cumulative gain of the first ``k`` gains (linear gain, log2 discount).

    Args:
        gains: relevance of each ranked item, best-ranked first.
        k: cut-off.

    Returns:
        ``sum(gains[i] / log2(i + 2) for i < k)``.
    """
    g = np.asarray(gains, dtype=float)[:k]
    return float(np.dot(g, _discounts(len(g))))


def ndcg_at_k(ranked: Sequence[str], judgement: Judgement, k: int) -> float | None:
    """nDCG@k with linear gain, ideal DCG from all judged relevances of the need.

    Args:
        ranked: talent ids, best first.
        judgement: relevance per judged talent id.
        k: cut-off.

    Returns:
        nDCG in [0, 1], or ``None`` when the need has no relevant talent.
    """
    if _n_relevant(judgement) == 0:
        return None
    ideal = np.sort(np.fromiter(judgement.values(), dtype=float))[::-1]
    return dcg(_gains(ranked[:k], judgement), k) / dcg(ideal, k)


def recall_at_k(ranked: Sequence[str], judgement: Judgement, k: int) -> float | None:
    """Share of the need's relevant talents found in the first ``k`` ranks.

    Args:
        ranked: talent ids, best first.
        judgement: relevance per judged talent id.
        k: cut-off.

    Returns:
        Recall in [0, 1], or ``None`` when the need has no relevant talent.
    """
    n_rel = _n_relevant(judgement)
    if n_rel == 0:
        return None
    hits = int(np.count_nonzero(_gains(ranked[:k], judgement) > 0))
    return hits / n_rel


def reciprocal_rank(ranked: Sequence[str], judgement: Judgement) -> float | None:
    """``1 / rank`` of the first relevant (relevance > 0) talent; 0 if none is ranked.

    Args:
        ranked: talent ids, best first.
        judgement: relevance per judged talent id.

    Returns:
        Reciprocal rank in [0, 1], or ``None`` when the need has no relevant talent.
    """
    if _n_relevant(judgement) == 0:
        return None
    hits = np.flatnonzero(_gains(ranked, judgement) > 0)
    return 1.0 / (hits[0] + 1) if len(hits) else 0.0


def average_precision(ranked: Sequence[str], judgement: Judgement) -> float | None:
    """Average precision over *all* relevant talents of the need (binary: relevance > 0).

    ``AP = (1 / R) * sum over relevant ranked talents of precision@their rank``, where ``R``
    is the number of relevant judged talents, so relevant talents that were not ranked
    contribute 0.

    Args:
        ranked: talent ids, best first.
        judgement: relevance per judged talent id.

    Returns:
        AP in [0, 1], or ``None`` when the need has no relevant talent.
    """
    n_rel = _n_relevant(judgement)
    if n_rel == 0:
        return None
    rel = _gains(ranked, judgement) > 0
    if not rel.any():
        return 0.0
    precision = np.cumsum(rel) / np.arange(1, len(rel) + 1)
    return float(precision[rel].sum() / n_rel)


def mean_defined(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not ``None``.

    Args:
        values: per-need metric values, ``None`` for needs without a relevant talent.

    Returns:
        The mean, or ``None`` when no value is defined.
    """
    defined = [v for v in values if v is not None]
    return float(np.mean(defined)) if defined else None


def pairwise_loss(
    qrels: Mapping[str, Judgement], scores: Mapping[tuple[str, str], float]
) -> float | None:
    """Pairwise loss for graded labels, grouped by talent.

    For each talent, take every pair of needs it has labels for (any entry in ``qrels``,
    explicit 0 labels included) with relevance ``a > b``. The pair costs ``a - b`` when the
    talent's score for the lower-rated need is higher, ``(a - b) / 2`` on an exact tie, 0
    otherwise. The loss is the total cost over the total of ``a - b``: 0 is perfect, a
    reversed scorer gets 1 and a constant scorer exactly 0.5.

    Args:
        qrels: ``need_id -> {talent_id -> relevance}``.
        scores: the method's score for every labelled ``(need_id, talent_id)`` pair.

    Returns:
        The loss in [0, 1], or ``None`` when no talent has two labels that differ.

    Raises:
        KeyError: when a labelled pair has no score.
    """
    by_talent: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for need_id, judgement in qrels.items():
        for talent_id, rel in judgement.items():
            by_talent[talent_id].append((float(rel), float(scores[(need_id, talent_id)])))
    cost = weight = 0.0
    for labels in by_talent.values():
        if len(labels) < 2:
            continue
        c, w = _talent_pair_cost(np.asarray(labels, dtype=float))
        cost += c
        weight += w
    return cost / weight if weight > 0 else None


def _talent_pair_cost(labels: np.ndarray) -> tuple[float, float]:
    """Cost and weight of one talent's need pairs.

    Args:
        labels: array of shape (n, 2): relevance, score per labelled need.

    Returns:
        (total cost, total weight ``sum(a - b)``) over ordered pairs with ``a > b``.
    """
    rel, score = labels[:, 0], labels[:, 1]
    diff = np.subtract.outer(rel, rel)  # diff[i, j] = rel_i - rel_j
    better = diff > 0  # i is rated higher than j
    w = np.where(better, diff, 0.0)
    # compare rather than subtract, so that -inf floor scores tie with each other
    lower = np.less.outer(score, score)  # i scored below j
    tied = np.equal.outer(score, score)
    cost = np.where(lower, w, 0.0) + np.where(tied, w / 2, 0.0)
    return float(cost.sum()), float(w.sum())
