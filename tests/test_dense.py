"""Dense index: exact numpy/faiss search, HNSW with exact re-scoring, changes, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.dense import DenseIndex


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def data() -> tuple[list[str], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = _unit(rng, 500, 32)
    q = _unit(rng, 20, 32)
    return [f"d{i}" for i in range(500)], x, q


def _brute(x: np.ndarray, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    s = x @ q
    order = np.argsort(-s, kind="stable")[:k]
    return order, s[order]


def test_exact_single_equals_brute_force(data) -> None:
    ids, x, qs = data
    idx = DenseIndex(32)
    idx.add(ids, x)
    for q in qs:
        rows, scores = idx.search(q, 10)
        want_rows, want_scores = _brute(x, q, 10)
        assert rows.tolist() == want_rows.tolist()
        np.testing.assert_allclose(scores, want_scores, rtol=1e-5)


def test_exact_batch_equals_single(data) -> None:
    ids, x, qs = data
    idx = DenseIndex(32)
    idx.add(ids, x)
    rows, scores = idx.search_batch(qs, 10)
    for j, q in enumerate(qs):
        r, s = idx.search(q, 10)
        assert rows[j].tolist() == r.tolist()
        np.testing.assert_allclose(scores[j], s, rtol=1e-5)


def test_hnsw_with_rescoring_matches_exact(data) -> None:
    ids, x, qs = data
    exact, ann = DenseIndex(32), DenseIndex(32, ann_threshold=100, rescore_factor=8)
    exact.add(ids, x)
    ann.add(ids, x)
    assert ann.uses_ann and not exact.uses_ann
    for q in qs:
        r1, s1 = exact.search(q, 5)
        r2, s2 = ann.search(q, 5)
        assert r2.tolist() == r1.tolist()
        np.testing.assert_allclose(s2, s1, rtol=1e-5)  # re-scored: exact values


def test_hnsw_after_changes(data) -> None:
    ids, x, qs = data
    ann = DenseIndex(32, ann_threshold=100, rescore_factor=8)
    ann.add(ids[:300], x[:300])
    ann.search(qs[0], 5)  # builds the graph
    ann.add(ids[300:], x[300:])
    ann.remove(ids[:50])
    exact = DenseIndex(32)
    exact.add(ids[50:], x[50:])
    for q in qs[:5]:
        got = [ann.ids[r] for r in ann.search(q, 5)[0]]
        want = [exact.ids[r] for r in exact.search(q, 5)[0]]
        assert got == want


def test_add_remove_update_equal_a_rebuild(data) -> None:
    ids, x, qs = data
    rng = np.random.default_rng(1)
    new = _unit(rng, 3, 32)
    idx = DenseIndex(32)
    idx.add(ids[:400], x[:400])
    idx.add(ids[400:], x[400:])
    idx.remove(["d3", "d77", "missing"])
    idx.update(["d10", "d11"], new[:2])
    idx.add(["d12"], new[2:])  # add with an existing id replaces
    fresh_ids = [i for i in ids if i not in ("d3", "d77")]
    fresh_x = np.stack([x[int(i[1:])] for i in fresh_ids])
    for name, v in zip(["d10", "d11", "d12"], new, strict=True):
        fresh_x[fresh_ids.index(name)] = v
    fresh = DenseIndex(32)
    fresh.add(fresh_ids, fresh_x)
    assert sorted(idx.ids) == sorted(fresh.ids)
    for q in qs:
        got = [(idx.ids[r], round(float(s), 5)) for r, s in zip(*idx.search(q, 8), strict=True)]
        want = [(fresh.ids[r], round(float(s), 5))
                for r, s in zip(*fresh.search(q, 8), strict=True)]
        assert got == want


def test_update_unknown_id_raises(data) -> None:
    ids, x, _ = data
    idx = DenseIndex(32)
    idx.add(ids[:2], x[:2])
    with pytest.raises(KeyError):
        idx.update(["nope"], x[:1])


def test_shape_checks() -> None:
    idx = DenseIndex(4)
    with pytest.raises(ValueError):
        idx.add(["a"], np.zeros((1, 3)))
    with pytest.raises(ValueError):
        idx.add(["a", "a"], np.zeros((2, 4)))


def test_save_load(tmp_path: Path, data) -> None:
    ids, x, qs = data
    idx = DenseIndex(32, ann_threshold=1000)
    idx.add(ids, x)
    idx.save(tmp_path / "dense")
    for mmap in (False, True):
        back = DenseIndex.load(tmp_path / "dense", mmap=mmap)
        assert back.ids == ids and back.ann_threshold == 1000
        assert back.search(qs[0], 5)[0].tolist() == idx.search(qs[0], 5)[0].tolist()
        back.add(["new"], qs[:1])  # a memory-mapped index becomes writable on change
        assert back.ids[back.search(qs[0], 1)[0][0]] == "new"


def test_empty_index() -> None:
    idx = DenseIndex(4)
    assert idx.search(np.ones(4), 3)[0].size == 0
    assert idx.search_batch(np.ones((2, 4)), 3)[0].shape == (2, 0)


def test_attach_holds_the_array_without_copying_and_never_writes_into_it(data) -> None:
    ids, vecs, _ = data
    held = np.ascontiguousarray(vecs[:50], dtype=np.float32)
    before = held.copy()
    idx = DenseIndex(held.shape[1])
    idx.attach(ids[:50], held)
    assert np.shares_memory(idx.vectors, held) and not idx.vectors.flags.writeable
    rows, _ = idx.search(held[3], 1)
    assert idx.ids[rows[0]] == ids[3]
    idx.add([ids[3], "extra"], np.stack([held[4], held[5]]))  # a change copies first
    assert np.array_equal(held, before) and not np.shares_memory(idx.vectors, held)
    assert np.array_equal(idx.vectors[3], held[4]) and idx.ids[-1] == "extra"
    with pytest.raises(ValueError):
        idx.attach(ids[:2], held[:2])
