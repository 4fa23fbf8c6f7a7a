"""The learned ranker: fallback, learning, contributions, versions; the simulated reviewer."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from matching.ranker import (
    RankerModel,
    RankerNotTrained,
    current_version,
    scorer_info,
    train_ranker,
    versions,
)
from matching.scorer import SCORER_FEATURES, FusedScorer, to_matrix
from tests.fakes import HashEncoder, SplitTokenizer


def synthetic(n: int, seed: int) -> list[tuple[dict[str, float], int]]:
    """Approval depends on ``tie`` and ``availability``; dense is pure noise.

    The fused weights favour ``dense`` and ``dense_profile``, so they rank these pairs
    near chance; a ranker that learns from the labels should not.
    """
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        row = {name: rng.random() for name in SCORER_FEATURES}
        label = int(row["tie"] + row["availability"] > 1.0)
        out.append((row, label))
    return out


def test_no_ranker_below_min_decisions_and_info_says_fused():
    examples = synthetic(49, 0)
    assert train_ranker(examples, min_decisions=50) is None
    info = scorer_info(None, len(examples), 50)
    assert info["scorer"] == "fused"
    assert "49" in info["reason_zh"] and "50" in info["reason_zh"]


def test_no_ranker_with_a_single_label():
    examples = [(row, 1) for row, _ in synthetic(80, 1)]
    assert train_ranker(examples, min_decisions=50) is None


def test_trained_ranker_beats_fused_on_a_separable_set():
    model = train_ranker(synthetic(200, 2), min_decisions=50)
    assert model is not None
    test = synthetic(500, 3)
    x = to_matrix([r for r, _ in test], SCORER_FEATURES)
    y = [label for _, label in test]
    learned = roc_auc_score(y, model.score(x)[0])
    fused = roc_auc_score(y, FusedScorer().score(x)[0])
    assert learned > 0.9
    assert learned > fused + 0.2
    assert model.coefficients["tie"] > 0 and model.coefficients["availability"] > 0
    assert model.metrics["cv_auc"] > 0.8
    info = scorer_info(model, 200, 50)
    assert info["scorer"] == "ranker" and info["n_examples"] == 200


def test_score_is_intercept_plus_contributions():
    model = train_ranker(synthetic(120, 4), min_decisions=50)
    assert model is not None
    x = to_matrix([r for r, _ in synthetic(30, 5)], SCORER_FEATURES)
    scores, contributions = model.score(x)
    intercept = float(model.model.intercept_[0])
    np.testing.assert_allclose(scores, intercept + contributions.sum(axis=1), atol=1e-9)
    assert (contributions < 0).any() and (contributions > 0).any()


def test_save_load_round_trip_and_version_bump(tmp_path):
    with pytest.raises(RankerNotTrained):
        RankerModel.load(tmp_path)
    first = train_ranker(synthetic(100, 6), min_decisions=50)
    second = train_ranker(synthetic(150, 7), min_decisions=50)
    assert first is not None and second is not None
    folder = first.save(tmp_path)
    assert folder.name == "v0001" and (folder / "meta.json").is_file()
    assert second.save(tmp_path).name == "v0002"
    assert versions(tmp_path) == [1, 2] and current_version(tmp_path) == 2
    loaded = RankerModel.load(tmp_path)
    assert loaded.version == 2 and loaded.n_examples == 150
    assert loaded.feature_names == second.feature_names
    x = to_matrix([r for r, _ in synthetic(20, 8)], SCORER_FEATURES)
    np.testing.assert_allclose(loaded.score(x)[0], second.score(x)[0])
    old = RankerModel.load(tmp_path, version=1)
    assert old.version == 1 and old.n_examples == 100
    np.testing.assert_allclose(old.score(x)[0], first.score(x)[0])


def test_simulate_reviewer_runs_at_a_tiny_size():
    from evaluation.simulate_reviewer import run, split_needs

    result = run(n_talents=300, n_needs=60, decisions=60, seed=3, noise=0.1,
                 encoder=HashEncoder(), tokenizer=SplitTokenizer(), min_decisions=20)
    assert result["decisions"] == 60
    assert 0 < result["approved"] < 60
    for arm in ("before", "after", "hybrid"):
        assert 0.0 <= result[arm]["ndcg@10"] <= 1.0
        assert 0.0 <= result[arm]["mrr"] <= 1.0
    assert result["ranker"] is not None
    assert result["n_train_needs"] + result["n_test_needs"] == 69
    train, test = split_needs([f"N{i}" for i in range(100)], 3)
    assert not set(train) & set(test) and len(train) + len(test) == 100
    assert split_needs(list(reversed(train + test)), 3)[1] == list(reversed(test))
