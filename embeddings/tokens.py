"""Token tables: every document's BM25 tokens as vocabulary ids in flat numpy arrays.

An index version keeps its documents' tokens this way (``tokens.npy``, ``token_offsets.npy``,
``vocab.json``) instead of one Python list of strings per document: 114,000 talents hold
about 19 million tokens, which as Python strings would take gigabytes, and as ``int32`` take
76 MB. The lexical index is built straight from these arrays
(:meth:`embeddings.lexical.LexicalIndex.build_from_ids`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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
