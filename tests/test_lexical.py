"""BM25 lexical index over token lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.lexical import LexicalIndex, top_k

DOCS = {
    "a": ["尼龙66", "切片", "聚合", "工艺"],
    "b": ["特高压", "输电", "绝缘", "材料"],
    "c": ["煤", "化工", "焦化", "工艺"],
    "d": ["储能", "电池", "材料", "材料"],
    "e": ["农业", "种植", "小麦"],
}


def _index(docs: dict[str, list[str]] = DOCS) -> LexicalIndex:
    idx = LexicalIndex()
    idx.build(list(docs.values()), list(docs))
    return idx


def test_obvious_doc_ranks_first() -> None:
    idx = _index()
    rows, scores = idx.search(["特高压", "绝缘"], k=3)
    assert idx.ids[rows[0]] == "b"
    assert len(rows) == 1 and scores[0] > 0


def test_shared_token_orders_by_tf_and_idf() -> None:
    idx = _index()
    rows, _ = idx.search(["材料"], k=5)
    assert [idx.ids[r] for r in rows] == ["d", "b"]


def test_score_all_matches_bm25s() -> None:
    idx = _index()
    q = ["工艺", "材料", "材料", "未知词"]
    expected = idx._bm25.get_scores(q)
    np.testing.assert_allclose(idx.score_all(q), expected, rtol=1e-6)


def test_batch_equals_single() -> None:
    idx = _index()
    queries = [["工艺"], ["储能", "材料"], [], ["nothing"]]
    batch = idx.score_batch(queries)
    for j, q in enumerate(queries):
        np.testing.assert_allclose(batch[:, j], idx.score_all(q), rtol=1e-6)


def test_empty_query_and_empty_index() -> None:
    idx = _index()
    assert not idx.score_all([]).any()
    assert idx.search([], 3)[0].size == 0
    empty = LexicalIndex()
    empty.build([])
    assert empty.score_all(["x"]).size == 0


def test_empty_document_is_allowed() -> None:
    idx = LexicalIndex()
    idx.build([["a"], []], ["1", "2"])
    assert idx.search(["a"], 2)[0].tolist() == [0]


def test_normalise() -> None:
    np.testing.assert_allclose(LexicalIndex.normalise(np.array([2.0, 1.0, 0.0])), [1, 0.5, 0])
    assert not LexicalIndex.normalise(np.zeros(3)).any()


def _scores_by_id(idx: LexicalIndex, q: list[str]) -> dict[str, float]:
    return dict(zip(idx.ids, idx.score_all(q).tolist(), strict=True))


def test_add_update_remove_equal_a_rebuild() -> None:
    idx = _index()
    idx.add(["f"], [["特高压", "套管"]])
    idx.update(["a"], [["尼龙66", "改性"]])
    idx.remove(["c", "zzz"])
    docs = {k: v for k, v in DOCS.items() if k != "c"}
    docs["a"] = ["尼龙66", "改性"]
    docs["f"] = ["特高压", "套管"]
    fresh = _index(docs)
    for q in (["特高压"], ["尼龙66", "切片"], ["材料", "工艺"]):
        got, want = _scores_by_id(idx, q), _scores_by_id(fresh, q)
        assert got.keys() == want.keys()
        for key in want:
            assert got[key] == pytest.approx(want[key], rel=1e-6)


def test_save_load_roundtrip(tmp_path: Path) -> None:
    idx = _index()
    idx.save(tmp_path / "lex")
    back = LexicalIndex.load(tmp_path / "lex")
    assert back.ids == idx.ids and back.tokens == idx.tokens
    np.testing.assert_allclose(back.score_all(["材料", "工艺"]), idx.score_all(["材料", "工艺"]))
    back.add(["g"], [["小麦"]])
    assert back.search(["小麦"], 1)[0].size == 1


def test_duplicate_ids_rejected() -> None:
    with pytest.raises(ValueError):
        LexicalIndex().build([["a"], ["b"]], ["x", "x"])


def test_top_k() -> None:
    s = np.array([0.1, 0.9, 0.5, 0.9])
    assert top_k(s, 3).tolist() == [1, 3, 2]
    assert top_k(s, 10).tolist() == [1, 3, 2, 0]
    assert top_k(s, 0).size == 0


def test_build_from_ids_equals_bm25s_index() -> None:
    rng = np.random.default_rng(3)
    vocab = [f"w{i}" for i in range(60)]
    docs = [[vocab[j] for j in rng.integers(0, 50, size=rng.integers(1, 30))] for _ in range(40)]
    ref = LexicalIndex()
    ref.build(docs, [f"d{i}" for i in range(40)])
    index = {t: i for i, t in enumerate(vocab)}
    flat = np.array([index[t] for d in docs for t in d], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum([len(d) for d in docs])])
    fast = LexicalIndex()
    fast.build_from_ids(flat, offsets, vocab, [f"d{i}" for i in range(40)])
    for q in (["w1", "w7"], ["w3"], ["w49", "w2", "w2"], ["w55"], ["unknown"]):
        np.testing.assert_allclose(fast.score_all(q), ref.score_all(q), rtol=1e-5, atol=1e-6)


def test_one_query_scores_and_ceiling_equal_the_batch_and_column_slices() -> None:
    rng = np.random.default_rng(3)
    vocab = [f"t{i}" for i in range(40)]
    docs = [list(rng.choice(vocab, size=int(rng.integers(1, 30)))) for _ in range(300)]
    idx = LexicalIndex()
    idx.build(docs)
    for _ in range(50):
        query = list(rng.choice([*vocab, "unknown"], size=int(rng.integers(0, 12))))
        assert np.array_equal(idx.score_all(query), idx.score_batch([query])[:, 0])
        cols = idx.query_ids(query)
        want = 0.0
        if cols.size:
            unique, counts = np.unique(cols, return_counts=True)
            want = float(np.asarray(idx._csc[:, unique].max(axis=0).toarray()).ravel() @ counts)
        assert idx.ceiling(query) == want
    idx.add(["new"], [["t1", "t1", "t2"]])  # a rebuilt matrix gets new maxima
    assert idx.column_max()[idx.query_ids(["t1"])[0]] == idx._csc[:, idx.query_ids(["t1"])].max()


def _flat(seed: int) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(60)]
    docs = [rng.integers(0, 55, size=rng.integers(1, 30)) for _ in range(40)]
    offsets = np.concatenate([[0], np.cumsum([len(d) for d in docs])])
    return np.concatenate(docs).astype(np.int32), offsets, vocab, [f"d{i}" for i in range(40)]


def test_shared_index_saves_the_matrix_once_and_maps_it_after(tmp_path: Path) -> None:
    from embeddings.lexical import MATRIX_META, shared_index

    flat, offsets, vocab, ids = _flat(5)
    ref = LexicalIndex()
    ref.build_from_ids(flat, offsets, vocab, ids)
    first = shared_index(tmp_path, (1.5, 0.75, "lucene"), flat, offsets, vocab, ids)
    assert (tmp_path / MATRIX_META).exists() and (tmp_path / "bm25_data.npy").exists()
    stamp = (tmp_path / "bm25_data.npy").stat().st_mtime_ns
    again = shared_index(tmp_path, (1.5, 0.75, "lucene"), flat[:0], offsets * 0, vocab, ids)
    assert (tmp_path / "bm25_data.npy").stat().st_mtime_ns == stamp  # mapped, not rebuilt
    for index in (first, again):
        assert index._csc is not None and not index._csc.data.flags.writeable  # a mapping
        for q in (["w1", "w7"], ["w3", "w3"], ["w59"], ["unknown"]):
            np.testing.assert_array_equal(index.score_all(q), ref.score_all(q))
            assert index.ceiling(q) == pytest.approx(ref.ceiling(q))
        np.testing.assert_array_equal(index.score_batch([["w1"], ["w2", "w9"]]),
                                      ref.score_batch([["w1"], ["w2", "w9"]]))


def test_shared_index_rebuilds_a_matrix_of_other_parameters_or_documents(
        tmp_path: Path) -> None:
    from embeddings.lexical import shared_index

    flat, offsets, vocab, ids = _flat(6)
    shared_index(tmp_path, (1.5, 0.75, "lucene"), flat, offsets, vocab, ids)
    other = shared_index(tmp_path, (1.2, 0.75, "lucene"), flat, offsets, vocab, ids)
    ref = LexicalIndex(1.2, 0.75, "lucene")
    ref.build_from_ids(flat, offsets, vocab, ids)
    np.testing.assert_array_equal(other.score_all(["w1", "w4"]), ref.score_all(["w1", "w4"]))
    fewer = shared_index(tmp_path, (1.2, 0.75, "lucene"), flat[:offsets[39]], offsets[:40],
                         vocab, ids[:39])
    assert len(fewer) == 39 and fewer.score_all(["w1"]).shape == (39,)


def test_shared_index_in_a_read_only_folder_keeps_the_matrix_in_memory(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import os

    from embeddings.lexical import MATRIX_META, shared_index

    if os.geteuid() == 0:
        # root writes through a read-only mode: make the write fail the way a read-only
        # mount does
        target = tmp_path / "not-a-folder"
        target.write_text("x")
    else:
        target = tmp_path / "ro"
        target.mkdir()
        target.chmod(0o500)
    flat, offsets, vocab, ids = _flat(7)
    with caplog.at_level("WARNING"):
        index = shared_index(target, (1.5, 0.75, "lucene"), flat, offsets, vocab, ids)
    assert "BM25" in caplog.text and not (tmp_path / MATRIX_META).exists()
    ref = LexicalIndex()
    ref.build_from_ids(flat, offsets, vocab, ids)
    np.testing.assert_array_equal(index.score_all(["w2", "w8"]), ref.score_all(["w2", "w8"]))
