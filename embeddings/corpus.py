"""What hybrid retrieval reads and returns: documents (:class:`Corpus`), :class:`Hit`, and the
protocols it needs of an encoder and a tokenizer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from embeddings.lexical import LexicalIndex

METHODS = ("hybrid", "bm25", "dense")
Query = str | Sequence[str]


def check_method(method: str) -> None:
    """Raise ValueError unless ``method`` is one of :data:`METHODS`."""
    if method not in METHODS:
        raise ValueError(f"unknown retrieval method {method!r}; choose one of {', '.join(METHODS)}")


@runtime_checkable
class Encoder(Protocol):
    """What retrieval needs of an encoder (a copy of ``embeddings.encoders.base.Encoder``)."""

    id: str
    dim: int

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        """L2-normalised float32 rows, one per text."""
        ...

    def encode_query(self, text: str) -> np.ndarray:
        """One L2-normalised query vector."""
        ...


class TokenizerLike(Protocol):
    """What retrieval needs of a tokenizer."""

    def tokenize(self, text: str) -> list[str]:
        """Tokens of one text."""
        ...


@dataclass
class Corpus:
    """Documents to index: ids, one profile text each, item texts per document.

    ``profile_vectors`` (n × dim), ``item_vectors`` (all items, grouped by document in
    order) and ``token_lists`` (one BM25 token list per document) may be supplied by a cache;
    ``lexical`` may be a prebuilt :class:`LexicalIndex` over the same ids (then
    ``token_lists`` is not needed); ``summary_vectors`` may be the precomputed output of
    :func:`summary_vectors` (then the item vectors are read only for candidates, so they
    can stay memory-mapped);
    whatever is missing is computed.
    """

    ids: list[str]
    profiles: list[str]
    items: list[list[str]] = field(default_factory=list)
    profile_vectors: np.ndarray | None = None
    item_vectors: np.ndarray | None = None
    token_lists: list[list[str]] | None = None
    lexical: LexicalIndex | None = None
    summary_vectors: np.ndarray | None = None


@dataclass
class Hit:
    """One retrieved document: ``score = sum(contributions.values())``.

    ``raw`` holds each signal's raw value (cosine or BM25), ``ranks`` its 1-based rank within
    the query's candidate pool (no ``bm25`` rank when no token is shared).
    """

    id: str
    score: float
    contributions: dict[str, float]
    raw: dict[str, float] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)


def summary_vectors(profile: np.ndarray, cents: np.ndarray, counts: np.ndarray,
                    profile_weight: float) -> np.ndarray:
    """The dense candidate vector per document: profile and item centroid, weighted.

    Args:
        profile: ``(n, dim)`` profile vectors.
        cents: ``(n, dim)`` item centroids (see :func:`embeddings.aggregate.centroids`).
        counts: items per document.
        profile_weight: the profile's share where a document has items.

    Returns:
        ``(n, dim)`` float32; documents without items keep their profile vector.
    """
    w = profile_weight if int(np.sum(counts)) > 0 else 1.0
    out = np.where((np.asarray(counts) > 0)[:, None], w * profile + (1 - w) * cents, profile)
    return np.asarray(out, dtype=np.float32)
