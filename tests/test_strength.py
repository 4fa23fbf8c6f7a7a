"""The weak-need flag's head model (#10): learned from pseudo-needs, stored with the scorer,
used by the matcher and the evaluator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluation.evaluator import strength_split
from matching.calibration import ALL_FEATURES, Examples, calibration_matrix, fit_calibrated
from matching.ranker import RankerModel
from matching.scorer import SCORER_FEATURES
from matching.strength import (
    HEAD_FEATURES,
    NONE_THRESHOLD,
    WEAK_THRESHOLD,
    fit_head,
    head_chance,
    head_features,
    strength,
    top_coverage,
)

CLEAR = [0.25] + [0.005] * 9
"""One clear candidate: independent coverage calls it weaker than FLAT."""
FLAT = [0.12] * 10
"""Ten middling candidates: independent coverage sums them to 0.72."""


def _heads(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo-need heads where, as on real data, a clear leader is found and a flat head not."""
    rng = np.random.default_rng(seed)
    heads, hits = [], []
    for _ in range(n):
        clear = rng.random() < 0.5
        top = rng.uniform(0.2, 0.7) if clear else rng.uniform(0.08, 0.15)
        rest = rng.uniform(0.005, 0.05, 9) if clear else rng.uniform(0.07, top, 9)
        heads.append(head_features([top, *rest]))
        hits.append(int(rng.random() < (0.8 if clear else 0.15)))
    return np.array(heads), np.array(hits)


def test_head_features_of_a_short_list_pad_with_nothing() -> None:
    full = head_features([0.5, 0.1])
    assert full.shape == (len(HEAD_FEATURES),)
    assert full[1] == pytest.approx(0.5 / 0.6, rel=1e-3)  # the best one's share of the head
    assert full[3] == pytest.approx(0.6, rel=1e-3)
    assert np.isfinite(head_features([1.0, 0.0])).all()  # clipped away from 0 and 1


def test_head_model_learns_that_a_clear_leader_is_strong() -> None:
    heads, hits = _heads()
    head, metrics = fit_head(heads, hits)
    assert len(head) == len(HEAD_FEATURES) + 1
    assert metrics["head_auc"] > 0.75 and 0.0 <= metrics["head_ece"] < 0.1
    # independence gets these two the wrong way round; the head model does not
    assert top_coverage(CLEAR) < top_coverage(FLAT)
    assert head_chance(CLEAR, head) > WEAK_THRESHOLD > head_chance(FLAT, head)
    assert strength(CLEAR, head) == "ok" and strength(FLAT, head) != "ok"
    for probs in (CLEAR, FLAT, [], [1.0], [0.0] * 3):
        assert 0.0 <= head_chance(probs, head) <= 1.0


def test_no_head_model_from_too_few_needs_or_one_outcome() -> None:
    heads, hits = _heads(10)
    assert fit_head(heads, hits) == ((), {})
    heads, _ = _heads(100)
    assert fit_head(heads, np.ones(100)) == ((), {})
    # without a head model the flag falls back to the independent coverage
    assert head_chance(FLAT) == pytest.approx(top_coverage(FLAT))
    assert strength([]) == "none" and strength([NONE_THRESHOLD / 2]) == "none"


def _examples(n_needs: int = 200, pool: int = 20, seed: int = 0) -> Examples:
    """Pools in which the answer stands out on some needs, is lost among look-alikes on
    others, and is not retrieved on the rest."""
    rng = np.random.default_rng(seed)
    xs, ys, gs = [], [], []
    i_prof = SCORER_FEATURES.index("dense_profile")
    for g in range(n_needs):
        values = rng.uniform(0, 0.5, (pool, len(SCORER_FEATURES)))
        y = np.zeros(pool, dtype=np.int64)
        kind = g % 3
        if kind < 2:
            y[0] = 1
            values[0, i_prof] += 0.5 if kind == 0 else 0.05
        if kind == 1:
            values[1:6, i_prof] += 0.05
        fused = values[:, i_prof]
        xs.append(calibration_matrix(values, fused, ALL_FEATURES))
        ys.append(y)
        gs.append(np.full(pool, g))
    found = sum(1 for y in ys if y.any())
    return Examples(np.vstack(xs), np.concatenate(ys), np.concatenate(gs), n_needs, found)


def test_calibrated_training_fits_saves_and_loads_the_head(tmp_path: Path) -> None:
    model = fit_calibrated(_examples())
    assert len(model.head) == len(HEAD_FEATURES) + 1
    assert "head_auc" in model.metrics and "head_ece" in model.metrics
    loaded = RankerModel.load(tmp_path) if model.save(tmp_path) else None
    assert loaded is not None and loaded.head == pytest.approx(model.head)
    assert loaded.info()["head"] == pytest.approx(list(model.head))


def test_evaluator_flags_with_the_methods_head() -> None:
    heads, hits = _heads()
    head, _ = fit_head(heads, hits)
    ranking = {"clear": [(f"c{i}", p) for i, p in enumerate(CLEAR)],
               "flat": [(f"f{i}", p) for i, p in enumerate(FLAT)]}
    qrels = {"clear": {"c0": 1}, "flat": {"f9": 1}}
    with_head = strength_split(ranking, qrels, ["clear", "flat"], head)
    assert with_head["flagged_share"] == 0.5
    assert with_head["mrr_flagged"] == pytest.approx(0.1)  # the flat need is the one flagged
    assert with_head["mrr_unflagged"] == 1.0
    assert with_head["chance_ece"] is not None and 0.0 <= with_head["chance_ece"] <= 1.0
    without = strength_split(ranking, qrels, ["clear", "flat"])
    assert without["mrr_flagged"] == 1.0  # independence flags the clear need instead


def test_matcher_judges_the_need_on_every_kept_candidate_with_the_head() -> None:
    from matching.matcher import Matcher
    from tests.test_matcher import ENT, NOW, TABLES, hit, need, talent

    model = fit_calibrated(_examples())
    talents = {t.id: t for t in (talent(i) for i in range(1, 13))}
    hits = [hit(i, 0.9 - 0.05 * i) for i in range(1, 13)]
    matcher = Matcher(TABLES, ranker=model, now=NOW)
    every = matcher.match_need(need(), hits, talents, ENT)
    two = matcher.match_need(need(), hits, talents, ENT, k=2)
    scores = [m.score for m in every.matches]
    assert len(two.matches) == 2 and len(scores) == 12
    assert two.chance == pytest.approx(head_chance(scores, model.head))
    assert two.coverage == two.chance and two.strength == strength(scores, model.head)
    assert two.chance != pytest.approx(head_chance(scores[:2], model.head))
