"""Item aggregation, fusion and the hybrid retriever (with a deterministic fake encoder)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pytest

from embeddings.aggregate import (
    aggregate,
    centroids,
    combine,
    offsets_from_counts,
    owner_of_items,
)
from embeddings.config import RetrievalConfig
from embeddings.fusion import convex_parts, minmax, pool_ranks, rrf_parts
from embeddings.hybrid import Corpus, Encoder, HybridRetriever
from embeddings.tokenize import Tokenizer


class FakeEncoder:
    """Hashed character unigrams and bigrams → a normalised 64-d vector."""

    id = "fake-ngram-64"
    dim = 64

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
        for g in grams:
            if g.strip():
                h = hashlib.blake2b(g.encode(), digest_size=4).digest()
                v[int.from_bytes(h, "little") % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n > 0 else v

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        return np.stack([self._one(t) for t in texts]).astype(np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self._one(text)


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer(["尼龙66", "特高压"], taxonomy=False)


TALENTS = Corpus(
    ids=["t-nylon", "t-grid", "t-coal", "t-battery", "t-farm", "t-empty"],
    profiles=[
        "高分子材料、尼龙66聚合工艺；教授；某大学材料学院",
        "电气工程、特高压输电；高级工程师；电网研究院",
        "煤化工、焦化工艺；研究员；煤炭研究所",
        "电化学、储能电池；副教授；新能源学院",
        "农学、小麦育种；研究员；农业科学院",
        "管理学；讲师",
    ],
    items=[
        ["尼龙66切片黏度控制方法", "工程塑料增韧改性"],
        ["特高压套管绝缘设计", "换流站运维"],
        ["焦炉煤气制氢"],
        ["锂电池正极材料", "钠离子电池", "储能系统安全"],
        ["小麦抗旱品种"],
        [],
    ],
)
NEEDS = Corpus(
    ids=["n-nylon", "n-grid", "n-coal"],
    profiles=["尼龙66切片质量提升，需要聚合工艺专家", "特高压绝缘套管国产化攻关", "焦化企业煤气综合利用"],
)


def _retriever(corpus: Corpus, tokenizer: Tokenizer, **cfg) -> HybridRetriever:
    r = HybridRetriever(FakeEncoder(), tokenizer, RetrievalConfig(**cfg))
    r.build(corpus)
    return r


# -- aggregation ----------------------------------------------------------------------------
ITEM_SCORES = np.array([0.2, 0.9, 0.5, 0.4, 0.7], dtype=np.float32)
OFFSETS = offsets_from_counts([3, 0, 2])  # owner 0: .2 .9 .5, owner 1: none, owner 2: .4 .7


def test_offsets_and_owners() -> None:
    assert OFFSETS.tolist() == [0, 3, 3, 5]
    assert owner_of_items(OFFSETS).tolist() == [0, 0, 0, 2, 2]


def test_aggregate_max() -> None:
    out = aggregate(ITEM_SCORES, OFFSETS, "max")
    assert out[0] == pytest.approx(0.9) and np.isnan(out[1]) and out[2] == pytest.approx(0.7)


def test_aggregate_topk_weighted() -> None:
    h3 = 1 + 1 / 2 + 1 / 3
    out = aggregate(ITEM_SCORES, OFFSETS, "topk_weighted", k=3)
    assert out[0] == pytest.approx((0.9 + 0.5 / 2 + 0.2 / 3) / h3)
    assert out[2] == pytest.approx((0.7 + 0.4 / 2) / h3)
    assert np.isnan(out[1])
    raw = aggregate(ITEM_SCORES, OFFSETS, "topk_weighted", k=2, normalise=False)
    assert raw[0] == pytest.approx(0.9 + 0.5 / 2)


def test_aggregate_negative_scores_and_2d() -> None:
    scores = np.array([[-0.5, 0.1], [-0.2, 0.3], [0.6, -0.9]], dtype=np.float32)
    offs = offsets_from_counts([2, 1])
    for mode in ("max", "topk_weighted"):
        both = aggregate(scores, offs, mode)
        for j in range(2):
            np.testing.assert_allclose(both[:, j], aggregate(scores[:, j], offs, mode), rtol=1e-6)
    assert aggregate(scores[:, 0], offs, "max").tolist() == pytest.approx([-0.2, 0.6])


def test_aggregate_unknown_mode() -> None:
    with pytest.raises(ValueError, match="unknown item aggregation"):
        aggregate(ITEM_SCORES, OFFSETS, "mean")


def test_centroids() -> None:
    vecs = np.array([[1, 0], [0, 1], [3, 4]], dtype=np.float32)
    c = centroids(vecs, offsets_from_counts([2, 0, 1]))
    want = np.array([[2**-0.5, 2**-0.5], [0.0, 0.0], [0.6, 0.8]])
    np.testing.assert_allclose(c, want, rtol=1e-6)


def test_combine_falls_back_to_profile() -> None:
    out = combine(np.array([0.5, 0.4]), np.array([1.0, np.nan]), 0.25)
    np.testing.assert_allclose(out, [0.25 * 0.5 + 0.75, 0.4])


# -- fusion ---------------------------------------------------------------------------------
def test_minmax_and_ranks() -> None:
    np.testing.assert_allclose(minmax(np.array([1.0, 3.0, 2.0])), [0, 1, 0.5])
    assert minmax(np.array([2.0, 2.0])).tolist() == [1, 1]
    assert pool_ranks(np.array([0.1, 0.9, 0.5, 0.9])).tolist() == [4, 1, 3, 2]


def test_convex_on_hand_built_pool() -> None:
    raw = {"dense_profile": np.array([0.2, 0.6, 0.4]), "bm25": np.array([4.0, 0.0, 2.0])}
    parts, ranks = convex_parts(raw, {"dense_profile": 0.5, "bm25": 0.5})
    np.testing.assert_allclose(parts["dense_profile"], [0, 0.5, 0.25])
    np.testing.assert_allclose(parts["bm25"], [0.5, 0, 0.25])
    assert ranks["bm25"].tolist() == [1, 0, 2]  # no shared token: no rank
    total = parts["dense_profile"] + parts["bm25"]
    np.testing.assert_allclose(total, [0.5, 0.5, 0.5])


def test_rrf_on_hand_built_pool() -> None:
    raw = {"dense_profile": np.array([0.2, 0.6, 0.4]), "bm25": np.array([4.0, 0.0, 2.0])}
    parts, _ = rrf_parts(raw, {"dense_profile": 1.0, "bm25": 1.0}, k=60)
    np.testing.assert_allclose(parts["dense_profile"], [1 / 63, 1 / 61, 1 / 62])
    np.testing.assert_allclose(parts["bm25"], [1 / 61, 0, 1 / 62])
    score = parts["dense_profile"] + parts["bm25"]
    assert np.argsort(-score).tolist() == [0, 2, 1]


def test_signal_weights_sum_to_one() -> None:
    cfg = RetrievalConfig()
    assert sum(cfg.signal_weights(True).values()) == pytest.approx(1.0)
    assert set(cfg.signal_weights(False)) == {"dense_profile", "bm25"}


# -- retriever ------------------------------------------------------------------------------
def test_fake_encoder_fits_protocol() -> None:
    assert isinstance(FakeEncoder(), Encoder)


@pytest.mark.parametrize("fusion", ["convex", "rrf"])
def test_talents_for_a_need(tokenizer: Tokenizer, fusion: str) -> None:
    r = _retriever(TALENTS, tokenizer, fusion=fusion)
    hits = r.search("特高压绝缘套管国产化攻关", k=3)
    assert hits[0].id == "t-grid"
    hits = r.search("尼龙66切片质量提升", k=3)
    assert hits[0].id == "t-nylon"


@pytest.mark.parametrize("fusion", ["convex", "rrf"])
def test_contributions_sum_to_score(tokenizer: Tokenizer, fusion: str) -> None:
    r = _retriever(TALENTS, tokenizer, fusion=fusion)
    hits = r.search("储能电池材料", k=6)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for h in hits:
        assert h.score == pytest.approx(sum(h.contributions.values()))
        assert set(h.contributions) == {"dense_profile", "dense_items", "bm25"}
        assert set(h.raw) == {"dense_profile", "dense_items", "bm25", "bm25_words", "bm25_chars"}
    top = hits[0]
    assert top.id == "t-battery" and top.ranks["bm25"] == 1


def test_item_signal_uses_profile_when_no_items(tokenizer: Tokenizer) -> None:
    r = _retriever(TALENTS, tokenizer)
    hit = next(h for h in r.search("管理学讲师", k=6) if h.id == "t-empty")
    assert hit.raw["dense_items"] == pytest.approx(hit.raw["dense_profile"])


def test_needs_for_a_talent(tokenizer: Tokenizer) -> None:
    r = _retriever(NEEDS, tokenizer)
    assert not r.has_items
    query = [TALENTS.profiles[2], *TALENTS.items[2]]
    hits = r.search(query, k=3)
    assert hits[0].id == "n-coal"
    assert set(hits[0].contributions) == {"dense_profile", "bm25"}
    assert r.search(TALENTS.profiles[1], k=1)[0].id == "n-grid"


def test_bm25_and_dense_methods(tokenizer: Tokenizer) -> None:
    r = _retriever(TALENTS, tokenizer)
    bm = r.search("小麦", k=5, method="bm25")
    assert [h.id for h in bm] == ["t-farm"] and bm[0].contributions == {"bm25": bm[0].score}
    dense = r.search("小麦育种", k=6, method="dense")
    assert dense[0].id == "t-farm" and len(dense) == 6
    for h in dense:
        assert set(h.contributions) == {"dense_profile", "dense_items"}
        assert h.score == pytest.approx(0.6 * h.raw["dense_profile"] + 0.4 * h.raw["dense_items"])
    with pytest.raises(ValueError, match="unknown retrieval method"):
        r.search("x", method="sparse")


@pytest.mark.parametrize("mode", ["max", "topk_weighted", "centroid"])
def test_batch_equals_single(tokenizer: Tokenizer, mode: str) -> None:
    r = _retriever(TALENTS, tokenizer, item_aggregation=mode, batch_chunk=2)
    queries = ["特高压绝缘", "尼龙66", "储能电池安全", "小麦"]
    for method in ("hybrid", "bm25", "dense"):
        batch = r.search_batch(queries, k=4, method=method)
        for q, hits in zip(queries, batch, strict=True):
            single = r.search(q, k=4, method=method)
            assert [h.id for h in hits] == [h.id for h in single]
            assert [h.score for h in hits] == pytest.approx([h.score for h in single], rel=1e-5)


def test_candidate_restricted_items_equal_exhaustive(tokenizer: Tokenizer) -> None:
    full = _retriever(TALENTS, tokenizer)
    pooled = _retriever(TALENTS, tokenizer, exact_items_max=0, ann_threshold=2)  # HNSW too
    for q in ("换流站运维", "焦炉煤气制氢", "钠离子电池"):
        a, b = full.search(q, k=6), pooled.search(q, k=6)
        assert [h.id for h in a] == [h.id for h in b]
        assert [h.score for h in a] == pytest.approx([h.score for h in b], rel=1e-5)


def _random_corpus(n: int = 300, dim: int = 16, seed: int = 3):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 6, n)

    def unit(m: int) -> np.ndarray:
        x = rng.standard_normal((m, dim)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    corpus = Corpus(
        ids=[f"d{i}" for i in range(n)], profiles=[""] * n,
        items=[[""] * int(c) for c in counts], profile_vectors=unit(n),
        item_vectors=unit(int(counts.sum())), token_lists=[[f"w{i % 7}"] for i in range(n)],
    )
    return corpus, offsets_from_counts(counts), unit(5)


@pytest.mark.parametrize("mode", ["max", "topk_weighted", "centroid"])
def test_pooled_dense_scores_equal_brute_force(tokenizer: Tokenizer, mode: str) -> None:
    corpus, offsets, queries = _random_corpus()
    r = HybridRetriever(None, tokenizer, RetrievalConfig(
        item_aggregation=mode, exact_items_max=0, dense_candidates=15))
    r.build(corpus)
    assert corpus.item_vectors is not None and corpus.profile_vectors is not None
    cents = centroids(corpus.item_vectors, offsets)
    for q in queries:
        prof = corpus.profile_vectors @ q
        if mode == "centroid":
            items = cents @ q
            items[np.diff(offsets) == 0] = np.nan
        else:
            items = aggregate(corpus.item_vectors @ q, offsets, mode)
        want = combine(prof, items, 0.6)
        hits = r.search("", k=10, method="dense", query_vector=q)
        for h in hits:
            assert h.score == pytest.approx(float(want[int(h.id[1:])]), abs=1e-5)
        if mode == "centroid":  # the summary index is exact for centroid: same top 10
            assert [h.id for h in hits] == [f"d{i}" for i in np.argsort(-want)[:10]]


def test_item_match_found_through_items(tokenizer: Tokenizer) -> None:
    r = _retriever(TALENTS, tokenizer, dense_weight=1.0, profile_weight=0.0)
    assert r.search("换流站运维", k=1)[0].id == "t-grid"


def test_precomputed_vectors_and_tokens_are_used(tokenizer: Tokenizer) -> None:
    enc = FakeEncoder()
    flat = [t for doc in TALENTS.items for t in doc]
    corpus = Corpus(TALENTS.ids, TALENTS.profiles, TALENTS.items,
                    profile_vectors=enc.encode(TALENTS.profiles), item_vectors=enc.encode(flat),
                    token_lists=[["x"]] * len(TALENTS.ids))
    r = HybridRetriever(None, tokenizer)
    r.build(corpus)
    qv = enc.encode_query("特高压套管")
    hits = r.search("特高压套管", k=2, query_vector=qv)
    assert hits[0].id == "t-grid" and hits[0].raw["bm25"] == 0
    with pytest.raises(ValueError, match="no encoder"):
        r.search("特高压套管")


def test_empty_corpus(tokenizer: Tokenizer) -> None:
    r = _retriever(Corpus([], [], []), tokenizer)
    assert r.search("x") == [] and r.search_batch(["x"]) == [[]]


@pytest.mark.slow
def test_real_use_multilingual_encoder() -> None:
    encoders = pytest.importorskip("embeddings.encoders")
    try:
        enc = encoders.make_encoder("use-multilingual")
    except Exception as exc:  # model files missing on this machine
        pytest.skip(f"use-multilingual unavailable: {exc}")
    r = HybridRetriever(enc, Tokenizer(["尼龙66", "特高压"]))
    r.build(TALENTS)
    assert r.search("特高压绝缘套管国产化攻关", k=3)[0].id == "t-grid"
    assert r.search("lithium battery energy storage", k=3, method="dense")[0].id == "t-battery"
