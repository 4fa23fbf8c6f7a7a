"""The embedding cache: hit/miss accounting, persistence, crash safety, progress."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from embeddings.cache import FILENAME, CachedEncoder, EmbeddingCache, text_hash

ROOT = Path(__file__).resolve().parents[1]


def fake_vector(text: str, dim: int = 8) -> np.ndarray:
    """A deterministic unit vector derived from the text."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


class CountingEncoder:
    """Fake encoder recording every text it is asked to encode."""

    dim = 8

    def __init__(self, id: str = "fake:v1") -> None:
        self.id = id
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        self.seen.extend(texts)
        return np.stack([fake_vector(t) for t in texts]) if texts else np.empty((0, 8))

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 64,
                       progress: bool = False) -> np.ndarray:
        """Asymmetric, like e5: the query side embeds a prefixed text."""
        return self.encode(["query: " + t for t in texts])

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_queries([text])[0]


@pytest.fixture
def cache(tmp_path: Path) -> EmbeddingCache:
    return EmbeddingCache(tmp_path / "cache")


def test_misses_then_hits(cache: EmbeddingCache) -> None:
    inner = CountingEncoder()
    enc = CachedEncoder(inner, cache)
    texts = ["甲", "乙", "丙"]
    first = enc.encode(texts)
    assert inner.seen == texts and (enc.hits, enc.misses) == (0, 3)
    second = enc.encode(texts)
    assert inner.seen == texts, "re-encoding unchanged texts must encode nothing"
    assert (enc.hits, enc.misses) == (3, 3)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, np.stack([fake_vector(t) for t in texts]), atol=1e-7)


def test_only_new_texts_encoded_and_order_kept(cache: EmbeddingCache) -> None:
    inner = CountingEncoder()
    enc = CachedEncoder(inner, cache)
    enc.encode(["a", "b"])
    out = enc.encode(["c", "a", "c", "d", "b"])
    assert inner.seen == ["a", "b", "c", "d"]
    expected = np.stack([fake_vector(t) for t in ["c", "a", "c", "d", "b"]])
    np.testing.assert_allclose(out, expected, atol=1e-7)
    assert out.dtype == np.float32


def test_persists_across_instances(tmp_path: Path) -> None:
    first = CachedEncoder(CountingEncoder(), EmbeddingCache(tmp_path))
    first.encode(["x", "y"])
    first.cache.close()
    inner = CountingEncoder()
    again = CachedEncoder(inner, EmbeddingCache(tmp_path))
    again.encode(["y", "x", "z"])
    assert inner.seen == ["z"]
    assert again.cache.count("fake:v1") == 3


def test_encoder_id_is_part_of_the_key(cache: EmbeddingCache) -> None:
    CachedEncoder(CountingEncoder("fake:v1"), cache).encode(["same text"])
    other = CountingEncoder("fake:v2")
    CachedEncoder(other, cache).encode(["same text"])
    assert other.seen == ["same text"]


def test_empty_and_query_paths(cache: EmbeddingCache) -> None:
    enc = CachedEncoder(CountingEncoder(), cache)
    assert enc.encode([]).shape == (0, 8)
    np.testing.assert_allclose(enc.encode_query("q"), fake_vector("query: q"), atol=1e-7)
    assert enc.encode_queries([]).shape == (0, 8)


def test_query_vectors_are_cached_apart_from_passages(cache: EmbeddingCache) -> None:
    inner = CountingEncoder()
    enc = CachedEncoder(inner, cache)
    passage = enc.encode(["同一文本"])
    query = enc.encode_queries(["同一文本"])
    assert inner.seen == ["同一文本", "query: 同一文本"], "a cached passage is no query vector"
    np.testing.assert_allclose(query[0], fake_vector("query: 同一文本"), atol=1e-7)
    assert float(query[0] @ passage[0]) < 0.99
    again = CachedEncoder(CountingEncoder(), cache)
    np.testing.assert_array_equal(again.encode_queries(["同一文本", "同一文本"]),
                                  np.stack([query[0]] * 2))
    np.testing.assert_array_equal(again.encode(["同一文本"]), passage)
    assert (again.hits, again.misses) == (2, 0) and again.encoder.seen == []
    assert cache.count("fake:v1") == 1 and cache.count("fake:v1|query") == 1


def test_chunked_commits(cache: EmbeddingCache) -> None:
    enc = CachedEncoder(CountingEncoder(), cache, chunk=2)
    enc.encode([str(i) for i in range(5)])
    assert cache.count("fake:v1") == 5


def test_progress_flag(cache: EmbeddingCache, capsys: pytest.CaptureFixture[str]) -> None:
    enc = CachedEncoder(CountingEncoder(), cache, chunk=3)
    out = enc.encode([f"t{i}" for i in range(7)], progress=True)
    assert out.shape == (7, 8)
    assert "7/7" in capsys.readouterr().err


def test_dim_mismatch_rejected(cache: EmbeddingCache) -> None:
    cache.put_many("e", [text_hash("a")], np.ones((1, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="dim"):
        cache.put_many("e", [text_hash("b")], np.ones((1, 5), dtype=np.float32))


_WRITER = textwrap.dedent("""
    import sys, numpy as np
    sys.path.insert(0, {root!r})
    from embeddings.cache import EmbeddingCache, text_hash
    cache = EmbeddingCache({folder!r})
    batch = 0
    while True:
        texts = [f"{{batch}}-{{i}}" for i in range(500)]
        vecs = np.array([[batch, i] * 64 for i in range(500)], dtype=np.float32)
        cache.put_many("w", [text_hash(t) for t in texts], vecs)
        batch += 1
        print(batch, flush=True)
""")


def test_killed_writer_leaves_consistent_cache(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    code = _WRITER.format(root=str(ROOT), folder=str(folder))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for _ in range(3):  # at least three committed batches, then kill mid-stream
            assert proc.stdout.readline()
        time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    db = sqlite3.connect(folder / FILENAME)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    cache = EmbeddingCache(folder)
    count = cache.count("w")
    assert count >= 1500 and count % 500 == 0, "a batch is committed whole or not at all"
    hashes = [text_hash(f"{b}-{i}") for b in range(count // 500) for i in range(500)]
    vectors, found = cache.get_many("w", hashes, 128)
    assert found.all()
    assert vectors[-1, 0] == count // 500 - 1 and vectors[-1, 1] == 499
