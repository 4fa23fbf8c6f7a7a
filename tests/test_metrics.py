"""Hand checks of the ranking metrics and the pairwise loss (evaluation/metrics.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, ndcg_score

from evaluation import metrics

JUDGED = {"a": 3.0, "b": 2.0, "c": 0.0, "d": 1.0}


# ------------------------------------------------------------------------------ nDCG


def test_ndcg_perfect_ranking_is_one() -> None:
    assert metrics.ndcg_at_k(["a", "b", "d", "c"], JUDGED, 10) == pytest.approx(1.0)
    assert metrics.ndcg_at_k(["a", "b"], JUDGED, 2) == pytest.approx(1.0)


def test_ndcg_hand_example_linear_gain() -> None:
    # ranks 1..3 hold c (0), a (3), d (1); ideal top 3 is 3, 2, 1
    dcg = 0 / math.log2(2) + 3 / math.log2(3) + 1 / math.log2(4)
    idcg = 3 / math.log2(2) + 2 / math.log2(3) + 1 / math.log2(4)
    got = metrics.ndcg_at_k(["c", "a", "d", "b"], JUDGED, 3)
    assert got == pytest.approx(dcg / idcg)
    assert got == pytest.approx(0.50249, abs=1e-5)


def test_ndcg_ideal_uses_all_judged_relevant() -> None:
    # only one of the two relevant talents is retrieved: DCG 1, ideal 1 + 1/log2(3)
    got = metrics.ndcg_at_k(["x", "y"], {"x": 1.0, "z": 1.0}, 10)
    assert got == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_ndcg_unjudged_and_none() -> None:
    assert metrics.ndcg_at_k(["u", "v"], JUDGED, 10) == 0.0
    assert metrics.ndcg_at_k(["a"], {"a": 0.0, "b": 0.0}, 10) is None
    assert metrics.ndcg_at_k([], {}, 10) is None


def test_ndcg_agrees_with_sklearn_when_all_judged_ranked() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        rel = rng.integers(0, 4, size=12).astype(float)
        if rel.max() == 0:
            continue
        scores = rng.permutation(12).astype(float)  # no ties
        ids = [f"t{i}" for i in range(12)]
        ranked = [ids[i] for i in np.argsort(-scores)]
        judgement = dict(zip(ids, rel, strict=True))
        for k in (3, 5, 10):
            expected = ndcg_score([rel], [scores], k=k)
            assert metrics.ndcg_at_k(ranked, judgement, k) == pytest.approx(expected)


# ------------------------------------------------------------------- recall, MRR, MAP


def test_recall_at_k() -> None:
    # relevant: a, b, d
    assert metrics.recall_at_k(["a", "c", "b", "d"], JUDGED, 2) == pytest.approx(1 / 3)
    assert metrics.recall_at_k(["a", "c", "b", "d"], JUDGED, 3) == pytest.approx(2 / 3)
    assert metrics.recall_at_k(["a", "c", "b", "d"], JUDGED, 50) == pytest.approx(1.0)
    assert metrics.recall_at_k(["a"], {"a": 0.0}, 10) is None


def test_reciprocal_rank() -> None:
    assert metrics.reciprocal_rank(["c", "x", "d"], JUDGED) == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank(["a"], JUDGED) == 1.0
    assert metrics.reciprocal_rank(["c", "x"], JUDGED) == 0.0
    assert metrics.reciprocal_rank(["c"], {"c": 0.0}) is None


def test_average_precision_hand_example() -> None:
    # relevant at ranks 1 and 3; three relevant in all → (1/1 + 2/3) / 3
    got = metrics.average_precision(["a", "c", "b", "x"], JUDGED)
    assert got == pytest.approx((1 + 2 / 3) / 3)
    assert metrics.average_precision(["a", "b", "d"], JUDGED) == pytest.approx(1.0)
    assert metrics.average_precision(["c", "x"], JUDGED) == 0.0
    assert metrics.average_precision([], {"c": 0.0}) is None


def test_average_precision_agrees_with_sklearn_when_all_ranked() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        rel = rng.integers(0, 3, size=15).astype(float)
        if rel.max() == 0:
            continue
        scores = rng.permutation(15).astype(float)
        ids = [f"t{i}" for i in range(15)]
        ranked = [ids[i] for i in np.argsort(-scores)]
        got = metrics.average_precision(ranked, dict(zip(ids, rel, strict=True)))
        assert got == pytest.approx(average_precision_score(rel > 0, scores))


def test_mean_defined_skips_none() -> None:
    assert metrics.mean_defined([1.0, None, 0.0]) == pytest.approx(0.5)
    assert metrics.mean_defined([None, None]) is None


# ----------------------------------------------------------------------- pairwise loss

QRELS = {
    "n1": {"t1": 3.0, "t2": 0.0, "t3": 1.0},
    "n2": {"t1": 1.0, "t2": 2.0, "t3": 1.0},
    "n3": {"t1": 0.0, "t2": 1.0},
}


def _scores(fn) -> dict[tuple[str, str], float]:
    return {(n, t): fn(r) for n, j in QRELS.items() for t, r in j.items()}


def test_pairwise_perfect_is_zero() -> None:
    assert metrics.pairwise_loss(QRELS, _scores(lambda r: r * 10 + 1)) == 0.0


def test_pairwise_reversed_is_one() -> None:
    assert metrics.pairwise_loss(QRELS, _scores(lambda r: -r)) == 1.0


def test_pairwise_constant_is_exactly_half() -> None:
    assert metrics.pairwise_loss(QRELS, _scores(lambda r: 0.25)) == 0.5


def test_pairwise_hand_example_with_ties_and_floor() -> None:
    qrels = {
        "n1": {"t": 3.0, "u": 2.0, "v": 2.0, "w": 5.0},
        "n2": {"t": 1.0, "u": 2.0, "v": 0.0},
        "n3": {"t": 0.0},
    }
    inf = float("-inf")
    scores = {
        ("n1", "t"): 0.5, ("n2", "t"): 0.5, ("n3", "t"): 0.9,  # t: n1>n2 tie, n1>n3 & n2>n3 wrong
        ("n1", "u"): 0.1, ("n2", "u"): 0.7,  # equal labels: no pair
        ("n1", "v"): inf, ("n2", "v"): inf,  # both outside candidates: tie at the floor
        ("n1", "w"): 0.3,  # a single label: no pair
    }  # fmt: skip
    # t: (n1,n2) w=2 tie → 1; (n1,n3) w=3 wrong → 3; (n2,n3) w=1 wrong → 1; v: w=2 tie → 1
    assert metrics.pairwise_loss(qrels, scores) == pytest.approx((1 + 3 + 1 + 1) / (2 + 3 + 1 + 2))


def test_pairwise_undefined_and_missing_score() -> None:
    with pytest.raises(KeyError):
        metrics.pairwise_loss(QRELS, {})
    same = {"n1": {"t": 1.0}, "n2": {"t": 1.0}}
    assert metrics.pairwise_loss(same, {("n1", "t"): 0.0, ("n2", "t"): 1.0}) is None


labels = st.dictionaries(
    st.sampled_from([f"n{i}" for i in range(6)]),
    st.dictionaries(st.sampled_from(["t1", "t2", "t3"]), st.integers(0, 3), min_size=1),
    min_size=1,
)


@settings(max_examples=60, deadline=None)
@given(labels, st.data())
def test_pairwise_properties(qrels: dict, data: st.DataObject) -> None:
    pairs = [(n, t) for n, j in qrels.items() for t in j]
    values = data.draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0]), min_size=len(pairs),
                                max_size=len(pairs)))
    scores = dict(zip(pairs, values, strict=True))
    loss = metrics.pairwise_loss(qrels, scores)
    if loss is None:
        return
    assert 0.0 <= loss <= 1.0
    flipped = metrics.pairwise_loss(qrels, {p: -s for p, s in scores.items()})
    assert flipped is not None and loss + flipped == pytest.approx(1.0)  # every pair's cost under s and -s sums to a-b
    assert metrics.pairwise_loss(qrels, dict.fromkeys(pairs, 3.0)) == 0.5
