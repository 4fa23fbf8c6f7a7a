"""Expertise clusters of needs: KMeans over need embeddings, labelled from taxonomy terms.

Each need's text is scanned for the taxonomy's chain terms (and its own required expertise
items). The need embeddings are grouped with KMeans (k ≈ √(n/2), between 2 and 12); each
cluster is labelled with its two or three most distinctive terms (frequency in the cluster
× log(1 / share of all needs)), joined with "·". No I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MAX_CLUSTERS = 12
LABEL_TERMS = 3


@dataclass(frozen=True)
class NeedDoc:
    """What clustering reads of a need."""

    id: str
    text: str
    required: tuple[str, ...] = ()


def need_terms(doc: NeedDoc, terms: Sequence[str]) -> list[str]:
    """The taxonomy terms found in the need text, plus its required expertise items."""
    text = doc.text.lower()
    found = [t for t in terms if len(t) >= 2 and t.lower() in text]
    return list(dict.fromkeys([*doc.required, *found]))


def choose_k(n: int) -> int:
    """Number of clusters for ``n`` needs: √(n/2) clipped to [2, 12] (and ≤ n)."""
    if n <= 2:
        return max(n, 1)
    return int(min(max(round(math.sqrt(n / 2)), 2), MAX_CLUSTERS, n))


def assign(vectors: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Cluster index per row of ``vectors`` (KMeans on L2-normalised vectors).

    Args:
        vectors: one embedding per need (rows).
        k: clusters wanted.
        seed: random state (deterministic output).

    Returns:
        An int array of cluster indices.
    """
    if len(vectors) <= 1 or k <= 1:
        return np.zeros(len(vectors), dtype=int)
    from sklearn.cluster import KMeans

    x = np.asarray(vectors, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(x)


def label_clusters(term_lists: Sequence[Sequence[str]], labels: np.ndarray) -> dict[int, str]:
    """A Chinese label per cluster from its most distinctive terms.

    Args:
        term_lists: the terms of each need (same order as ``labels``).
        labels: cluster index per need.

    Returns:
        ``{cluster index: "术语A·术语B"}`` (unique labels; "其他专业" when no term).
    """
    n = len(term_lists)
    df = Counter(t for ts in term_lists for t in set(ts))
    out: dict[int, str] = {}
    for c in sorted(set(labels.tolist())):
        tf = Counter(t for ts, lab in zip(term_lists, labels, strict=True) if lab == c
                     for t in set(ts))
        ranked = sorted(tf, key=lambda t: (-tf[t] * math.log(1 + n / df[t]), t))
        name = "·".join(ranked[:LABEL_TERMS]) or "其他专业"
        while name in out.values():
            name += "′"
        out[int(c)] = name
    return out


def expertise_clusters(docs: Sequence[NeedDoc], vectors: Mapping[str, np.ndarray],
                       terms: Sequence[str], k: int | None = None, seed: int = 0
                       ) -> dict[str, str]:
    """Cluster label per need id.

    Needs without a vector (not indexed yet) go to the cluster of their most similar
    term profile, or "其他专业" when they have no terms.

    Args:
        docs: the needs.
        vectors: embedding per need id.
        terms: the taxonomy terms (all chains).
        k: clusters (default :func:`choose_k`).
        seed: KMeans random state.

    Returns:
        ``{need id: label}``.
    """
    with_vec = [d for d in docs if d.id in vectors]
    term_lists = {d.id: need_terms(d, terms) for d in docs}
    out: dict[str, str] = {}
    if with_vec:
        x = np.stack([np.asarray(vectors[d.id]) for d in with_vec])
        labels = assign(x, k or choose_k(len(with_vec)), seed)
        names = label_clusters([term_lists[d.id] for d in with_vec], labels)
        out = {d.id: names[int(lab)] for d, lab in zip(with_vec, labels, strict=True)}
    for d in docs:
        if d.id not in out:
            out[d.id] = _nearest_label(term_lists[d.id], term_lists, out)
    return out


def _nearest_label(own: Sequence[str], term_lists: Mapping[str, Sequence[str]],
                   known: Mapping[str, str]) -> str:
    best, label = 0, "其他专业"
    mine = set(own)
    for nid, lab in known.items():
        overlap = len(mine & set(term_lists[nid]))
        if overlap > best:
            best, label = overlap, lab
    return label
