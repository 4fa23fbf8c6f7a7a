"""How strong a need's candidates are on the calibrated scale, and how well calibrated.

A need whose best ten candidates give less than :data:`WEAK_THRESHOLD` chance that one of
them is right (:func:`top_coverage`) is flagged 匹配较弱; below :data:`NONE_THRESHOLD`
无合适人选 (:func:`strength`). :func:`expected_calibration_error` is the evaluator's ECE.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

STRENGTH_DEPTH = 10
"""A need's strength is judged on its best ``STRENGTH_DEPTH`` candidates (what a user reads)."""
WEAK_THRESHOLD = 0.3
"""Chance that one of the best ten is right below this: the need is flagged 匹配较弱."""
NONE_THRESHOLD = 0.1
"""Below this: 无合适人选 (no suitable candidate)."""
ECE_BINS = 10


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray,
                               bins: int = ECE_BINS) -> float:
    """Expected calibration error over equal-width probability bins.

    ``Σ_b (n_b / n) · |mean label_b − mean probability_b|``.

    Args:
        probs: predicted probabilities in [0, 1].
        labels: 0/1 outcomes.
        bins: number of bins.

    Returns:
        The ECE (0 = perfectly calibrated); 0 for no pairs.
    """
    p = np.asarray(probs, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    if p.size == 0:
        return 0.0
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            total += sel.sum() / p.size * abs(float(y[sel].mean()) - float(p[sel].mean()))
    return float(total)




def top_coverage(probabilities: Sequence[float], k: int = STRENGTH_DEPTH) -> float:
    """Chance that at least one of the best ``k`` candidates is right: ``1 − Π (1 − pᵢ)``.

    One candidate's probability is low whenever many talents fit a need (the mass spreads
    over them), so a need's strength is judged on its head, not on its best candidate.

    Args:
        probabilities: calibrated probabilities of the need's candidates.
        k: how many of the best count.

    Returns:
        The chance, in [0, 1] (0 for no candidate).
    """
    best = sorted((min(1.0, max(0.0, float(p))) for p in probabilities), reverse=True)[:k]
    return float(1.0 - np.prod([1.0 - p for p in best])) if best else 0.0


def strength(probabilities: Sequence[float]) -> str:
    """How strong a need's candidates are, on the calibrated scale.

    Args:
        probabilities: calibrated probabilities of the need's candidates.

    Returns:
        ``"none"`` (无合适人选: :func:`top_coverage` below :data:`NONE_THRESHOLD`),
        ``"weak"`` (匹配较弱: below :data:`WEAK_THRESHOLD`) or ``"ok"``.
    """
    cover = top_coverage(probabilities)
    if cover < NONE_THRESHOLD:
        return "none"
    return "weak" if cover < WEAK_THRESHOLD else "ok"


STRENGTH_ZH = {"none": "无合适人选", "weak": "匹配较弱", "ok": ""}
