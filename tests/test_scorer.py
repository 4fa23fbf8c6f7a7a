"""The fused scorer: contributions add up to the score; retrieval signals; weights."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matching.features import FEATURE_NAMES, PairFeatures
from matching.scorer import (
    DEFAULT_WEIGHTS,
    SCORER_FEATURES,
    FusedScorer,
    Scorer,
    feature_row,
    pool_max,
    retrieval_signals,
    to_matrix,
)


@dataclass
class FakeHit:
    id: str
    score: float
    raw: dict[str, float] = field(default_factory=dict)


unit = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(0, 20), st.just(len(SCORER_FEATURES))),
              elements=unit),
       st.lists(unit, min_size=len(SCORER_FEATURES), max_size=len(SCORER_FEATURES)))
def test_fused_contributions_sum_to_score(x, w):
    scorer = FusedScorer(dict(zip(SCORER_FEATURES, w, strict=True)))
    scores, contributions = scorer.score(x)
    assert scores.shape == (x.shape[0],)
    assert contributions.shape == x.shape
    np.testing.assert_allclose(contributions.sum(axis=1), scores, atol=1e-12)
    np.testing.assert_allclose(contributions, x * np.array(w), atol=1e-12)


def test_default_weights_cover_every_feature_and_sum_to_one():
    assert set(DEFAULT_WEIGHTS) == set(SCORER_FEATURES)
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(1.0)
    assert all(w >= 0 for w in DEFAULT_WEIGHTS.values())
    assert isinstance(FusedScorer(), Scorer)


def test_unknown_weight_is_refused_and_missing_weighs_zero():
    with pytest.raises(ValueError, match="bogus"):
        FusedScorer({"bogus": 1.0})
    scorer = FusedScorer({"dense": 1.0})
    row = np.ones((1, len(SCORER_FEATURES)))
    assert scorer.score(row)[0][0] == pytest.approx(1.0)


def test_retrieval_signals_relative_to_pool_and_clipped():
    hits = [FakeHit("a", 0.8, {"dense_profile": 0.7, "dense_items": 1.3, "bm25": 4.0,
                               "bm25_words": 0.25, "bm25_chars": 1.5}),
            FakeHit("b", 0.4, {"dense_profile": -0.2})]
    best = pool_max(hits)
    assert best == pytest.approx(0.8)
    a = retrieval_signals(hits[0], best)
    assert a == {"retrieval": 1.0, "dense_profile": 0.7, "dense_items": 1.0,
                 "bm25_words": 0.25, "bm25_chars": 1.0}
    b = retrieval_signals(hits[1], best)
    assert b["retrieval"] == pytest.approx(0.5)
    assert b["dense_profile"] == 0.0 and b["dense_items"] == 0.0  # falls back to the profile
    assert retrieval_signals(None, best) == dict.fromkeys(b, 0.0)
    assert pool_max([]) == 0.0


def test_feature_row_and_matrix_follow_names():
    pf = PairFeatures(dense=0.6, coverage=0.5)
    row = feature_row(pf, FakeHit("a", 1.0, {"dense_profile": 0.6}), 2.0)
    assert list(row) == [*FEATURE_NAMES, "retrieval", "dense_profile", "dense_items",
                         "bm25_words", "bm25_chars"]
    m = to_matrix([row, {"dense": 0.1}], SCORER_FEATURES)
    assert m.shape == (2, len(SCORER_FEATURES))
    assert m[0, SCORER_FEATURES.index("retrieval")] == pytest.approx(0.5)
    assert m[1, SCORER_FEATURES.index("coverage")] == 0.0
