"""How strong a need's candidates are on the calibrated scale, and how well calibrated.

A need whose best ten candidates give less than :data:`WEAK_THRESHOLD` chance that one of
them is right is flagged 匹配较弱; below :data:`NONE_THRESHOLD` 无合适人选 (:func:`strength`).

**The chance** comes from the *head model* (:func:`fit_head`, :func:`head_chance`), a
logistic regression learned with the calibrated scorer on the library's own pseudo-needs:
from the shape of a need's best ten probabilities (:data:`HEAD_FEATURES`) it estimates
P(the right talent is among them). Adding up the pair probabilities as if independent
(:func:`top_coverage`, the fallback for a model saved without a head) measured the
opposite of strength on real data: a flat head of many middling candidates sums high, a
need with one clear candidate low (cn-grants-dev, docs/quality.md).
:func:`expected_calibration_error` is the evaluator's ECE.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

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


HEAD_FEATURES = ("top1_logit", "top1_share", "top12_logit_gap", "top10_sum")
"""The head model's features, from a need's best ten calibrated probabilities: the best
one's logit, its share of the ten's sum, its logit margin over the second, and the sum."""
HEAD_FOLDS = 5
MIN_HEAD_NEEDS = 20
"""Fewer pseudo-needs (or only one outcome): no head model, :func:`top_coverage` is used."""
_EPS = 1e-6


def head_features(probabilities: Sequence[float], k: int = STRENGTH_DEPTH) -> np.ndarray:
    """:data:`HEAD_FEATURES` of one need's candidates (missing candidates count as 0).

    Args:
        probabilities: calibrated probabilities of the need's candidates (any order).
        k: how many of the best count.

    Returns:
        ``(len(HEAD_FEATURES),)`` float64.
    """
    best = np.sort(np.clip(np.asarray(probabilities, dtype=np.float64), _EPS, 1 - _EPS))[::-1]
    head = np.concatenate([best[:k], np.full(max(0, k - best.size), _EPS)])
    logit = np.log(head[:2] / (1 - head[:2]))
    total = float(head.sum())
    return np.array([logit[0], head[0] / total, logit[0] - logit[1], total])


def head_chance(probabilities: Sequence[float], head: Sequence[float] = ()) -> float:
    """Chance that one of a need's best ten candidates is right.

    Args:
        probabilities: calibrated probabilities of the need's candidates.
        head: the head model (:func:`fit_head`: one weight per :data:`HEAD_FEATURES`, then
            the intercept); empty: :func:`top_coverage`.

    Returns:
        The chance, in [0, 1] (0 for no candidate).
    """
    if len(probabilities) == 0:
        return 0.0
    if len(head) != len(HEAD_FEATURES) + 1:
        return top_coverage(probabilities)
    z = float(np.dot(head[:-1], head_features(probabilities)) + head[-1])
    return float(1.0 / (1.0 + np.exp(-z)))


def fit_head(heads: np.ndarray, hits: np.ndarray) -> tuple[tuple[float, ...], dict[str, float]]:
    """Fit the head model on pseudo-needs.

    Args:
        heads: ``(n_needs, len(HEAD_FEATURES))`` :func:`head_features` of each pseudo-need's
            out-of-fold probabilities.
        hits: 1 where its answer is among its best ten, else 0.

    Returns:
        ``(weights + intercept, metrics)``: metrics ``head_auc`` and ``head_ece``
        (out-of-fold, stratified folds); ``((), {})`` when there are too few needs or one
        outcome only.
    """
    y = np.asarray(hits, dtype=np.int64)
    x = np.asarray(heads, dtype=np.float64).reshape(-1, len(HEAD_FEATURES))
    if len(y) < MIN_HEAD_NEEDS or min(int(y.sum()), int(len(y) - y.sum())) < HEAD_FOLDS:
        return (), {}
    model = LogisticRegression(C=1.0, max_iter=2000)
    folds = StratifiedKFold(HEAD_FOLDS, shuffle=True, random_state=0)
    oof = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    model.fit(x, y)
    weights = (*map(float, model.coef_[0]), float(model.intercept_[0]))
    return weights, {"head_auc": round(float(roc_auc_score(y, oof)), 4),
                     "head_ece": round(expected_calibration_error(oof, y), 4)}


def strength(probabilities: Sequence[float], head: Sequence[float] = ()) -> str:
    """How strong a need's candidates are, on the calibrated scale.

    Args:
        probabilities: calibrated probabilities of the need's candidates.
        head: the scorer's head model (:func:`head_chance`).

    Returns:
        ``"none"`` (无合适人选: :func:`head_chance` below :data:`NONE_THRESHOLD`),
        ``"weak"`` (匹配较弱: below :data:`WEAK_THRESHOLD`) or ``"ok"``.
    """
    cover = head_chance(probabilities, head)
    if cover < NONE_THRESHOLD:
        return "none"
    return "weak" if cover < WEAK_THRESHOLD else "ok"


STRENGTH_ZH = {"none": "无合适人选", "weak": "匹配较弱", "ok": ""}
