"""The encoder interface every backend implements, its errors, and small shared helpers."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


class EncoderError(Exception):
    """Base class of the encoder errors."""


class EncoderUnavailable(EncoderError):
    """A package or model the encoder needs is missing; the message says how to install it."""


class UnknownEncoder(EncoderError):
    """The encoder name is not one we know; the message lists the known names."""


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into float32, L2-normalised vectors.

    Passages (profiles, items) go through ``encode``; queries (needs) through
    ``encode_queries`` (a batch) or ``encode_query`` (one, low latency). Symmetric models embed
    both sides alike; asymmetric ones (e5: ``query: `` / ``passage: `` prefixes) do not, so
    callers must use the query methods for needs.

    ``id`` is stable across processes and machines for the same model and configuration; the
    embedding cache uses it as part of its key, so anything that changes the vectors (model
    version, token budget, precision) must change the id.
    """

    id: str
    dim: int

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """Embed texts.

        Args:
            texts: the texts, in order.
            batch_size: texts per batch (a hint; backends may batch by tokens instead).
            progress: show a progress bar.

        Returns:
            float32 array of shape (len(texts), dim), rows L2-normalised.
        """
        ...

    def encode_queries(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """Embed queries (needs), as ``encode_query`` would one by one, in batches.

        Args:
            texts: the queries, in order.
            batch_size: texts per batch (a hint).
            progress: show a progress bar.

        Returns:
            float32 array of shape (len(texts), dim), rows L2-normalised.
        """
        ...

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one query on the low-latency path.

        Args:
            text: the query.

        Returns:
            float32 array of shape (dim,), L2-normalised.
        """
        ...


def capped_threads(threads: int) -> int:
    """Clamp a requested thread count to [1, os.cpu_count()].

    Args:
        threads: the requested count.

    Returns:
        The count to use.
    """
    return max(1, min(int(threads), os.cpu_count() or 1))


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Return float32 rows scaled to unit length (zero rows stay zero).

    Args:
        vectors: array (n, d).

    Returns:
        float32 array (n, d).
    """
    out = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


def progress_iter(total: int, enabled: bool, description: str = "编码"):
    """A tqdm progress bar counting texts, or None when disabled.

    Args:
        total: number of texts.
        enabled: whether to show it.
        description: the bar label.

    Returns:
        A tqdm instance (call ``update(n)`` / ``close()``) or None.
    """
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="text")
