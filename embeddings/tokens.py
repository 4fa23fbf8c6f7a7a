"""Token tables: every document's BM25 tokens as vocabulary ids in flat numpy arrays.

An index version keeps its documents' tokens this way (``tokens.npy``, ``token_offsets.npy``,
``vocab.json``) instead of one Python list of strings per document: 114,000 talents hold
about 19 million tokens, which as Python strings would take gigabytes, and as ``int32`` take
76 MB. The lexical index is built straight from these arrays
(:meth:`embeddings.lexical.LexicalIndex.build_from_ids`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class TokenTable:
    """Token ids of n documents: doc i is ``ids[offsets[i]:offsets[i + 1]]``."""

    ids: np.ndarray
    offsets: np.ndarray
    vocab: list[str]

    @classmethod
    def empty(cls, vocab: Sequence[str] = ()) -> TokenTable:
        """A table of no documents over ``vocab``."""
        return cls(np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int64), list(vocab))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def doc(self, i: int) -> list[str]:
        """The tokens of document ``i``."""
        return [self.vocab[t] for t in self.ids[self.offsets[i]:self.offsets[i + 1]]]

    def segment(self, i: int) -> np.ndarray:
        """The token ids of document ``i``."""
        return np.asarray(self.ids[self.offsets[i]:self.offsets[i + 1]])

    def take(self, rows: Sequence[int]) -> TokenTable:
        """The documents ``rows``, in that order, over the same vocabulary."""
        return assemble([self.segment(r) for r in rows], self.vocab)

    def compact(self) -> TokenTable:
        """The same documents over only the tokens they use (vocabulary order kept)."""
        used = np.unique(self.ids)
        remap = np.full(len(self.vocab), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        return TokenTable(remap[self.ids].astype(np.int32), self.offsets,
                          [self.vocab[i] for i in used.tolist()])

    def save(self, folder: Path) -> None:
        """Write ``tokens.npy``, ``token_offsets.npy`` and ``vocab.json``."""
        np.save(folder / "tokens.npy", self.ids)
        np.save(folder / "token_offsets.npy", self.offsets)
        (folder / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False),
                                           encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> TokenTable:
        """Read a table written by :meth:`save`."""
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        return cls(np.load(folder / "tokens.npy"), np.load(folder / "token_offsets.npy"), vocab)


class Vocabulary:
    """A growing token → id map that starts from an existing vocabulary."""

    def __init__(self, vocab: Sequence[str] = ()) -> None:
        self.tokens = list(vocab)
        self.index = {t: i for i, t in enumerate(self.tokens)}

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """Ids of ``tokens``, adding unseen ones."""
        out = np.empty(len(tokens), dtype=np.int32)
        for k, tok in enumerate(tokens):
            i = self.index.get(tok)
            if i is None:
                i = self.index[tok] = len(self.tokens)
                self.tokens.append(tok)
            out[k] = i
        return out


def assemble(segments: Sequence[np.ndarray], vocab: Sequence[str]) -> TokenTable:
    """A table from one id array per document."""
    lengths = np.fromiter((len(s) for s in segments), dtype=np.int64, count=len(segments))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    ids = np.concatenate(segments).astype(np.int32) if segments else np.zeros(0, np.int32)
    return TokenTable(ids, offsets, list(vocab))


def merge_sorted(a_ids: list[str], a: TokenTable, b_ids: list[str], b: TokenTable,
                 order: Sequence[int]) -> TokenTable:
    """Documents of ``a`` then ``b`` re-ordered by ``order``; ``b.vocab`` extends ``a.vocab``.

    Args:
        a_ids: ids of ``a``'s documents (only their count is used).
        a: the first table.
        b_ids: ids of ``b``'s documents (only their count is used).
        b: the second table, whose vocabulary starts with ``a``'s.
        order: positions into the concatenation ``a + b``.

    Returns:
        The merged table over ``b.vocab``.
    """
    if b.vocab[:len(a.vocab)] != a.vocab:
        raise ValueError("the second token table must extend the first one's vocabulary")
    segments = [a.segment(i) for i in range(len(a_ids))]
    segments += [b.segment(i) for i in range(len(b_ids))]
    return assemble([segments[i] for i in order], b.vocab)


SEP = "\x1f"


class TokenCache:
    """Token lists by (tokenizer id, sha256 of the text), in ``folder/tokens.sqlite``.

    jieba is the slow part of an index rebuild once vectors are cached (about 45 s for
    114,000 talents on one core); with this cache a rebuild from scratch re-tokenizes only
    texts it has never seen. Each ``put_many`` is one transaction (WAL), so a killed process
    leaves the file consistent.
    """

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.folder / "tokens.sqlite", check_same_thread=False,
                                   isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS tokens (tokenizer TEXT NOT NULL, "
                         "hash BLOB NOT NULL, toks TEXT NOT NULL, PRIMARY KEY (tokenizer, hash))")
        self._lock = threading.Lock()

    def tokenize_many(self, tokenizer_id: str, texts: Sequence[str],
                      tokenize: Callable[[str], list[str]]) -> list[list[str]]:
        """Tokens of every text: cached ones read in bulk, the rest tokenized and stored.

        Args:
            tokenizer_id: the tokenizer's stable id.
            texts: the texts.
            tokenize: the tokenizer function for cache misses.

        Returns:
            One token list per text.
        """
        hashes = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
        found = self._get(tokenizer_id, hashes)
        out: list[list[str]] = []
        new: dict[bytes, str] = {}
        for text, h in zip(texts, hashes, strict=True):
            joined = found.get(h)
            if joined is None:
                toks = tokenize(text)
                new[h] = SEP.join(toks)
                out.append(toks)
            else:
                out.append(joined.split(SEP) if joined else [])
        if new:
            with self._lock:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)",
                                     [(tokenizer_id, h, j) for h, j in new.items()])
                self._db.execute("COMMIT")
        return out

    def _get(self, tokenizer_id: str, hashes: Sequence[bytes]) -> dict[bytes, str]:
        found: dict[bytes, str] = {}
        with self._lock:
            for start in range(0, len(hashes), 900):
                chunk = list(hashes[start:start + 900])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT hash, toks FROM tokens WHERE tokenizer = ? AND hash IN ({marks})",
                    [tokenizer_id, *chunk])
                found.update(rows.fetchall())
        return found
