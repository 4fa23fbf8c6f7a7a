"""The persistent embedding cache, keyed by (encoder id, sha256 of the text).

One SQLite file (``embeddings.sqlite``) in the cache folder, WAL journal: every ``put_many`` is
one transaction, so a process killed mid-write leaves the file consistent with the last
committed batch. Lookups are in bulk (the wanted hashes go into a temporary table joined
against the store), and vectors are stored as raw float32 bytes, so half a million cached
vectors load in seconds.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from embeddings.encoders.base import Encoder, progress_iter

FILENAME = "embeddings.sqlite"
_EncodeFn = Callable[..., np.ndarray]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS encoders (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,
                                     dim INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (encoder INTEGER NOT NULL, hash BLOB NOT NULL,
                                    vec BLOB NOT NULL, PRIMARY KEY (encoder, hash));
"""


def text_hash(text: str) -> bytes:
    """sha256 digest of the UTF-8 text.

    Args:
        text: the text.

    Returns:
        32 bytes.
    """
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """Vectors by (encoder id, text hash), persisted in ``folder/embeddings.sqlite``.

    Args:
        folder: the cache folder (created if missing).
    """

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / FILENAME
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA page_size=16384")  # 7 vectors a page; only for a new file
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def _encoder_key(self, encoder_id: str, dim: int | None) -> int | None:
        row = self._db.execute("SELECT id, dim FROM encoders WHERE name = ?",
                               (encoder_id,)).fetchone()
        if row is not None:
            if dim is not None and row[1] != dim:
                raise ValueError(f"cache holds {encoder_id} with dim {row[1]}, not {dim}")
            return int(row[0])
        if dim is None:
            return None
        cur = self._db.execute("INSERT INTO encoders (name, dim) VALUES (?, ?)",
                               (encoder_id, dim))
        return int(cur.lastrowid or 0)

    def get_many(self, encoder_id: str, hashes: Sequence[bytes], dim: int
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Look up many hashes in one query.

        Args:
            encoder_id: the encoder's id.
            hashes: text hashes (duplicates allowed).
            dim: vector width.

        Returns:
            (vectors (len(hashes), dim) float32 with zero rows for misses, found bool mask).
        """
        out = np.zeros((len(hashes), dim), dtype=np.float32)
        found = np.zeros(len(hashes), dtype=bool)
        with self._lock:
            key = self._encoder_key(encoder_id, None)
            if key is None or not hashes:
                return out, found
            rows = self._join(key, hashes)
        for pos, vec in rows:
            out[pos] = np.frombuffer(vec, dtype=np.float32)
            found[pos] = True
        return out, found

    def _join(self, key: int, hashes: Sequence[bytes]) -> list[tuple[int, bytes]]:
        """(position, vector bytes) of the stored hashes, via a temporary table (one read
        transaction, so the inserts into it are not committed one by one)."""
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (pos INTEGER, hash BLOB)")
        self._db.execute("BEGIN")
        try:
            self._db.executemany("INSERT INTO wanted VALUES (?, ?)", enumerate(hashes))
            return self._db.execute(
                "SELECT w.pos, v.vec FROM wanted w JOIN vectors v "
                "ON v.encoder = ? AND v.hash = w.hash", (key,)).fetchall()
        finally:
            self._db.execute("DELETE FROM wanted")
            self._db.execute("COMMIT")

    def put_many(self, encoder_id: str, hashes: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store vectors in one transaction (all or nothing).

        Args:
            encoder_id: the encoder's id.
            hashes: text hashes, one per row.
            vectors: (len(hashes), dim) array.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(hashes) != len(vectors):
            raise ValueError(f"{len(hashes)} hashes for {len(vectors)} vectors")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                key = self._encoder_key(encoder_id, vectors.shape[1])
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                    ((key, h, v.tobytes()) for h, v in zip(hashes, vectors, strict=True)))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def count(self, encoder_id: str) -> int:
        """Vectors stored for one encoder.

        Args:
            encoder_id: the encoder's id.

        Returns:
            The count.
        """
        with self._lock:
            key = self._encoder_key(encoder_id, None)
            if key is None:
                return 0
            return int(self._db.execute("SELECT count(*) FROM vectors WHERE encoder = ?",
                                        (key,)).fetchone()[0])


QUERY_SUFFIX = "|query"


class CachedEncoder:
    """Wraps an encoder: only texts missing from the cache are encoded, then stored.

    Passage vectors (``encode``) are stored under the encoder's id, query vectors
    (``encode_queries``) under ``id + "|query"``: an asymmetric encoder (e5) embeds the same text
    differently on the two sides, so the two must never be served for each other.
    ``hits`` / ``misses`` count texts (after de-duplication within a call). Misses are
    encoded and committed in chunks of ``chunk`` texts, so an interrupted long run keeps what
    it finished. ``encode_query`` bypasses the cache (a point lookup plus a write would cost
    more than the 2–10 ms encoding).

    Args:
        encoder: the wrapped encoder.
        cache: the cache.
        chunk: texts per encode-and-commit step.
    """

    def __init__(self, encoder: Encoder, cache: EmbeddingCache, chunk: int = 4096) -> None:
        self.encoder = encoder
        self.cache = cache
        self.chunk = chunk
        self.id = encoder.id
        self.query_key = encoder.id + QUERY_SUFFIX
        self.dim = encoder.dim
        self.hits = 0
        self.misses = 0

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        """Embed passages, encoding only cache misses (see ``Encoder.encode``).

        Args:
            texts: the texts.
            batch_size: passed to the wrapped encoder.
            progress: show a progress bar over the texts to encode.

        Returns:
            float32 array (len(texts), dim).
        """
        return self._through_cache(texts, self.id, self.encoder.encode, batch_size, progress)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 64,
                       progress: bool = False) -> np.ndarray:
        """Embed queries, encoding only cache misses (see ``Encoder.encode_queries``).

        Args:
            texts: the queries.
            batch_size: passed to the wrapped encoder.
            progress: show a progress bar over the texts to encode.

        Returns:
            float32 array (len(texts), dim).
        """
        return self._through_cache(texts, self.query_key, self.encoder.encode_queries,
                                   batch_size, progress)

    def _through_cache(self, texts: Sequence[str], key: str, encode: _EncodeFn,
                       batch_size: int, progress: bool) -> np.ndarray:
        hashes = [text_hash(t) for t in texts]
        unique = list(dict.fromkeys(hashes))
        vectors, found = self.cache.get_many(key, unique, self.dim)
        self.hits += int(found.sum())
        todo = np.flatnonzero(~found)
        self.misses += len(todo)
        if len(todo):
            text_of = dict(zip(hashes, texts, strict=True))
            bar = progress_iter(len(todo), progress)
            for start in range(0, len(todo), self.chunk):
                part = [unique[i] for i in todo[start:start + self.chunk]]
                encoded = encode([text_of[h] for h in part], batch_size=batch_size)
                self.cache.put_many(key, part, encoded)
                vectors[todo[start:start + self.chunk]] = encoded
                if bar is not None:
                    bar.update(len(part))
            if bar is not None:
                bar.close()
        row_of = {h: i for i, h in enumerate(unique)}
        return vectors[[row_of[h] for h in hashes]]

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one query with the wrapped encoder, without the cache.

        Args:
            text: the query.

        Returns:
            float32 array (dim,).
        """
        return self.encoder.encode_query(text)
