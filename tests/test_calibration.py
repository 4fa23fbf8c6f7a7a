"""The calibrated scorer, self-supervised pseudo-needs, and the leakage guard (#10)."""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import numpy as np
import pytest

from data.records import Achievement, Need, Talent
from matching.calibration import (
    ALL_FEATURES,
    DEFAULT_FEATURES,
    LEARNED_FEATURES,
    LEXICAL_FEATURES,
    ORDER_FEATURES,
    Examples,
    calibration_matrix,
    collect_examples,
    fit_calibrated,
    fit_checked,
    near_duplicate_filter,
    train_self_supervised,
)
from matching.scorer import SCORER_FEATURES
from matching.selfsup import hold_out, near_duplicates, pseudo_needs
from matching.strength import (
    NONE_THRESHOLD,
    WEAK_THRESHOLD,
    expected_calibration_error,
    strength,
    top_coverage,
)


def _talent(i: int, titles: Sequence[tuple[str, int | None]], direction: str = "") -> Talent:
    return Talent(id=f"T{i:04d}", name=f"人{i}", category="",
                  research_directions=[direction] if direction else [],
                  achievements=[Achievement(title=t, year=y) for t, y in titles])


def _examples(n_needs: int = 60, pool: int = 20, seed: int = 0) -> Examples:
    """Synthetic pools where the positive has a higher cosine and BM25 share on average."""
    rng = np.random.default_rng(seed)
    xs, ys, gs = [], [], []
    i_prof = SCORER_FEATURES.index("dense_profile")
    i_words = SCORER_FEATURES.index("bm25_words")
    for g in range(n_needs):
        values = rng.uniform(0, 0.5, (pool, len(SCORER_FEATURES)))
        y = np.zeros(pool, dtype=np.int64)
        y[0] = 1
        values[0, i_prof] += rng.uniform(0, 0.4)
        values[0, i_words] += rng.uniform(0, 0.4)
        fused = values[:, i_prof] + values[:, i_words]
        xs.append(calibration_matrix(values, fused, ALL_FEATURES))
        ys.append(y)
        gs.append(np.full(pool, g))
    return Examples(np.vstack(xs), np.concatenate(ys), np.concatenate(gs), n_needs, n_needs)


def test_near_duplicates_by_shared_bigrams() -> None:
    assert near_duplicates("生育伦理的发展走向", "生育伦理的发展走向研究")
    assert not near_duplicates("刑法解释的理论建构", "城市港口物流需求预测")


def test_hold_out_takes_the_latest_item_and_its_near_duplicates() -> None:
    t = _talent(1, [("港口物流需求预测研究", 2009), ("刑事政策的实施机制", 2013),
                    ("刑事政策的实施机制研究", None)],
                direction="港口物流需求预测研究；刑事政策的实施机制")
    cut = hold_out(t)
    assert cut is not None
    reduced, item, titles = cut
    assert item.title == "刑事政策的实施机制" and item.year == 2013
    assert [a.title for a in reduced.achievements] == ["港口物流需求预测研究"]
    assert set(titles) == {"刑事政策的实施机制", "刑事政策的实施机制研究"}
    assert all("刑事政策" not in d for d in reduced.research_directions)


def test_hold_out_needs_two_items() -> None:
    assert hold_out(_talent(2, [("只有一个成果", 2010)])) is None


def test_pseudo_needs_replace_only_the_drawn_talents() -> None:
    talents = [_talent(i, [(f"主题{i}甲项研究", 2000 + i % 5), (f"方向{i}乙项探索", 2010)])
               for i in range(30)] + [_talent(99, [("单个成果", 2011)])]
    pseudo, library = pseudo_needs(talents, limit=10, seed=3)
    assert len(pseudo) == 10 and len(library) == len(talents)
    drawn = {p.talent_id for p in pseudo}
    for orig, lib in zip(talents, library, strict=True):
        if orig.id in drawn:
            assert len(lib.achievements) == 1
        else:
            assert lib is orig
    again, _ = pseudo_needs(talents, limit=10, seed=3)
    assert [p.need.title for p in again] == [p.need.title for p in pseudo]


def test_calibration_is_monotone_and_bounded() -> None:
    model = fit_calibrated(_examples())
    a, _ = model.platt
    assert a > 0
    x = calibration_matrix(np.random.default_rng(1).uniform(-2, 3, (500, len(SCORER_FEATURES))),
                           np.random.default_rng(2).uniform(-2, 3, 500), model.feature_names)
    probs, logits = model.probability(x)
    assert np.all((probs > 0) & (probs < 1))
    order = np.argsort(logits)
    assert np.all(np.diff(probs[order]) >= 0)  # never decreases as the logit grows
    assert model.calibrated and model.feature_names == DEFAULT_FEATURES


def test_keep_order_model_keeps_the_fused_order_within_a_need() -> None:
    model = fit_calibrated(_examples(), names=ORDER_FEATURES)
    rng = np.random.default_rng(7)
    for _ in range(20):
        values = rng.uniform(0, 1, (30, len(SCORER_FEATURES)))
        fused = rng.uniform(0, 1, 30)
        probs, _ = model.probability(calibration_matrix(values, fused, model.feature_names))
        assert list(np.argsort(-probs, kind="stable")) == list(np.argsort(-fused, kind="stable"))


def test_need_level_features_move_a_weak_need_down() -> None:
    """Two needs with the same fused scores: the one whose pool is weaker in absolute terms
    gets lower probabilities (what per-pool normalisation hid)."""
    model = fit_calibrated(_graded_examples(), names=ORDER_FEATURES)
    fused = np.linspace(1.0, 0.2, 10)
    strong = np.full((10, len(SCORER_FEATURES)), 0.2)
    strong[:, SCORER_FEATURES.index("dense_profile")] = np.linspace(0.9, 0.5, 10)
    strong[:, SCORER_FEATURES.index("bm25_words")] = np.linspace(0.9, 0.3, 10)
    weak = strong.copy()
    weak[:, SCORER_FEATURES.index("dense_profile")] = np.linspace(0.3, 0.1, 10)
    weak[:, SCORER_FEATURES.index("bm25_words")] = np.linspace(0.2, 0.0, 10)
    p_strong, _ = model.probability(calibration_matrix(strong, fused, model.feature_names))
    p_weak, _ = model.probability(calibration_matrix(weak, fused, model.feature_names))
    assert p_weak[0] < p_strong[0]


def _graded_examples(n_needs: int = 300, pool: int = 20, seed: int = 0) -> Examples:
    """Needs of varying difficulty: an easy need's pool has high raw signals and usually
    holds its right talent, a hopeless one has low raw signals and often does not; fused
    scores are normalised per pool, as in the service, so only the raw levels tell."""
    rng = np.random.default_rng(seed)
    xs, ys, gs = [], [], []
    i_prof, i_words = SCORER_FEATURES.index("dense_profile"), SCORER_FEATURES.index("bm25_words")
    for g in range(n_needs):
        level = rng.uniform(0.1, 1.0)
        values = np.zeros((pool, len(SCORER_FEATURES)))
        values[:, i_prof] = level * rng.uniform(0.3, 1.0, pool)
        values[:, i_words] = level * rng.uniform(0.0, 1.0, pool)
        raw = values[:, i_prof] + values[:, i_words]
        y = np.zeros(pool, dtype=np.int64)
        if rng.uniform() < level:
            y[int(np.argmax(raw))] = 1
        fused = raw / raw.max()
        xs.append(calibration_matrix(values, fused, ALL_FEATURES))
        ys.append(y)
        gs.append(np.full(pool, g))
    return Examples(np.vstack(xs), np.concatenate(ys), np.concatenate(gs), n_needs, n_needs)


def test_default_model_weighs_no_raw_word_overlap() -> None:
    assert not set(DEFAULT_FEATURES) & set(LEXICAL_FEATURES)
    assert {"fused", "retrieval", "dense_profile", "dense_items"} <= set(DEFAULT_FEATURES)
    assert set(LEXICAL_FEATURES) <= set(LEARNED_FEATURES)


def _dense_knows_best(n_needs: int = 120, pool: int = 20, seed: int = 0) -> Examples:
    """The raw profile cosine marks the answer reliably; the fused score only loosely."""
    rng = np.random.default_rng(seed)
    xs, ys, gs = [], [], []
    i_prof = SCORER_FEATURES.index("dense_profile")
    for g in range(n_needs):
        values = rng.uniform(0, 0.5, (pool, len(SCORER_FEATURES)))
        values[0, i_prof] += 0.4
        fused = rng.uniform(0, 1, pool)
        fused[0] += 0.2
        y = np.zeros(pool, dtype=np.int64)
        y[0] = 1
        xs.append(calibration_matrix(values, fused, ALL_FEATURES))
        ys.append(y)
        gs.append(np.full(pool, g))
    return Examples(np.vstack(xs), np.concatenate(ys), np.concatenate(gs), n_needs, n_needs)


def test_library_check_keeps_a_model_that_ranks_better() -> None:
    model = fit_checked(_dense_knows_best(), names=DEFAULT_FEATURES)
    assert model.feature_names == DEFAULT_FEATURES
    assert "fallback_keep_order" not in model.metrics
    assert model.metrics["oof_mrr_pseudo"] > model.metrics["fused_mrr_pseudo"]


def test_library_check_falls_back_to_the_fused_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """A re-weighing model whose out-of-fold pseudo-need MRR is below the fused score's is
    not kept: the order-preserving model is, and the version says why."""
    import matching.calibration as calibration

    real = calibration.fit_calibrated

    def worse(examples, decisions=(), c=calibration.DEFAULT_C, names=()):  # type: ignore[no-untyped-def]
        model = real(examples, decisions, c, names)
        if not calibration.keeps_order(names):
            model.metrics["oof_mrr_pseudo"] = model.metrics["fused_mrr_pseudo"] - 0.01
        return model

    monkeypatch.setattr(calibration, "fit_calibrated", worse)
    model = fit_checked(_dense_knows_best(), names=DEFAULT_FEATURES)
    assert model.feature_names == ORDER_FEATURES
    assert model.metrics["fallback_keep_order"] == 1.0
    assert model.metrics["rejected_oof_mrr_pseudo"] < model.metrics["fused_mrr_pseudo"]


def test_other_candidates_holding_a_near_duplicate_are_left_out() -> None:
    """The answer's near duplicates leave with the held-out item; another talent holding one
    is dropped from that pseudo-need's candidates too, so a near duplicate is not learnt as
    the sign of a wrong candidate."""
    talents = [_talent(0, [("刑法解释的理论建构", 2009), ("城市港口物流需求预测方法", 2013)]),
               _talent(1, [("城市港口物流需求预测方法研究", 2010)]),
               _talent(2, [("刑事政策的实施机制", 2011)])]
    pseudo, library = pseudo_needs(talents, limit=5)
    assert [p.talent_id for p in pseudo] == ["T0000"]
    exclude = near_duplicate_filter(library)
    assert exclude(pseudo[0], "T0001") and not exclude(pseudo[0], "T0002")

    def search(needs: Sequence[Need]) -> list[list[_Hit]]:
        return [[_Hit(t.id, 1.0) for t in library] for _ in needs]

    def candidates(need: Need, hits: Sequence[_Hit]):  # type: ignore[no-untyped-def]
        ids = [h.id for h in hits]
        values = np.zeros((len(ids), len(SCORER_FEATURES)))
        return ids, values, np.arange(len(ids), 0, -1, dtype=np.float64)

    kept = collect_examples(pseudo, search, candidates, exclude=exclude)
    everyone = collect_examples(pseudo, search, candidates)
    assert len(kept.y) == 2 and kept.y.sum() == 1 and len(everyone.y) == 3


def test_learned_model_uses_every_feature() -> None:
    model = fit_calibrated(_examples(), names=LEARNED_FEATURES)
    assert model.feature_names == LEARNED_FEATURES and model.calibrated


def test_calibrated_probabilities_match_frequencies() -> None:
    model = fit_calibrated(_examples(200, seed=4))
    test = _examples(200, seed=5)
    probs, _ = model.probability(test.x[:, [ALL_FEATURES.index(n) for n in model.feature_names]])
    assert expected_calibration_error(probs, test.y) < 0.05
    assert probs[test.y == 1].mean() > 3 * probs[test.y == 0].mean()


def test_ece_of_perfect_and_wrong_scores() -> None:
    y = np.array([0, 0, 1, 1])
    assert expected_calibration_error(np.array([0.0, 0.0, 1.0, 1.0]), y) == 0.0
    assert expected_calibration_error(np.array([1.0, 1.0, 0.0, 0.0]), y) == pytest.approx(1.0)


def test_strength_judges_the_head_of_the_list() -> None:
    assert strength([]) == "none"
    assert strength([NONE_THRESHOLD / 2]) == "none"
    assert strength([(NONE_THRESHOLD + WEAK_THRESHOLD) / 2]) == "weak"
    assert strength([WEAK_THRESHOLD + 0.01]) == "ok"
    # many fair candidates make a strong need even when none is likely alone
    assert strength([0.06] * 10) == "ok" and strength([0.06] * 2) == "weak"
    assert top_coverage([0.5, 0.5]) == pytest.approx(0.75)
    assert top_coverage([0.9] * 20, k=1) == pytest.approx(0.9)


def test_training_reads_only_the_library() -> None:
    """The leakage guard: training is a function of the library alone.

    ``train_self_supervised`` takes no needs or judgements; the searches it makes only ever
    see pseudo-needs built from the library's items, and the same library gives the same
    model whatever evaluation set is around it.
    """
    params = set(inspect.signature(train_self_supervised).parameters)
    assert not params & {"needs", "qrels", "judgements", "evaluation"}
    talents = [_talent(i, [(f"领域{i % 7}的第{i}号早期研究", 2005), (f"领域{i % 7}的后续研究{i}", 2012),
                           (f"领域{i % 7}方法{i}", 2009)]) for i in range(40)]
    library_titles = {a.title for t in talents for a in t.achievements}
    seen: list[str] = []

    def build_search(library: list[Talent]):
        ids = [t.id for t in library]

        def search(needs: Sequence[Need]):
            seen.extend(n.title for n in needs)
            return [[_Hit(i, float(len(set(n.title) & set("".join(a.title for a in t.achievements)))))
                     for i, t in zip(ids, library, strict=True)] for n in needs]
        return search

    def candidates(library: list[Talent]):
        def fn(need: Need, hits):
            values = np.zeros((len(hits), len(SCORER_FEATURES)))
            values[:, SCORER_FEATURES.index("bm25_chars")] = [h.score / 10 for h in hits]
            return [h.id for h in hits], values, values.sum(axis=1)
        return fn

    m1 = train_self_supervised(talents, build_search, candidates, limit=40)
    assert seen and set(seen) <= library_titles
    m2 = train_self_supervised(talents, build_search, candidates, limit=40)
    assert np.allclose(m1.model.coef_, m2.model.coef_) and m1.platt == m2.platt

    # when the need-level features would reverse the fused order (the 114k sample), the run
    # calibrates the fused score alone and records that it did
    import matching.calibration as calibration

    real = calibration.fit_calibrated

    def reversing(examples, decisions=(), c=calibration.DEFAULT_C, names=()):  # type: ignore[no-untyped-def]
        if tuple(names) != ("fused",):
            raise calibration.CalibrationFailed("fused coefficient ≤ 0")
        return real(examples, decisions, c, names)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(calibration, "fit_calibrated", reversing)
        m3 = train_self_supervised(talents, build_search, candidates, limit=40,
                                   names=ORDER_FEATURES)
        assert m3.feature_names == ("fused",) and m3.metrics["fallback_fused_only"] == 1.0

    def failing(examples, decisions=(), c=calibration.DEFAULT_C, names=()):  # type: ignore[no-untyped-def]
        raise calibration.CalibrationFailed("fused coefficient ≤ 0")

    with pytest.MonkeyPatch.context() as mp:  # the fused score alone fails too: say so
        mp.setattr(calibration, "fit_calibrated", failing)
        with pytest.raises(calibration.CalibrationFailed):
            train_self_supervised(talents, build_search, candidates, limit=40)
    assert "fallback_fused_only" not in m1.metrics


class _Hit:
    def __init__(self, id_: str, score: float) -> None:
        self.id, self.score, self.raw, self.ranks, self.contributions = id_, score, {}, {}, {}
