"""Candidate edges of many needs: reused from the latest pairing run, or retrieved in
batches and ranked (issue #13, item 9: an event shortlist within 10 s).

**Reuse.** A pairing run (:meth:`api.workflows.Workflows.pair_run`) ranks the top ``k``
talents of every open need. It stores them per need (``run_edges``: talent, edge score,
explanation, in rank order) with two digests:

* the run's *context* (:func:`context_digest`, in the run's ``result["edges"]``): the
  serving index's content (``data_hash``, encoder, retrieval configuration), the retrieval
  depth, the scorer (fused weights, the trained ranker's name, version and training time,
  the re-rank depth), the taxonomy folder, and the content hashes of every talent (a talent
  added, edited or deleted changes it);
* each need's *basis* (:func:`need_digest`): the need record and its enterprise's record.

A later event shortlist (:func:`reusable_edges`) takes a need's top ``k`` from the latest
pairing run when that run stored edges for at least ``k`` per need, is at most
:data:`REUSE_MAX_AGE_S` old, its context equals the current one and the need's basis equals
the need's (and enterprise's) current one. Everything the ranking reads is then unchanged,
so the stored edges are what a fresh ranking gives — save for the freshness feature, which
ages with the clock (weight 0.01, half-life 365 days: a day moves a fused score by less than
2·10⁻⁵); hence the maximum age. Needs the run does not cover (new, changed, a run too old
or of another context, no run) are ranked afresh.

**Batches.** The needs ranked afresh are retrieved by :meth:`HybridRetriever.search_batch`
in blocks, with each query encoded alone (:meth:`HybridRetriever.query_vector`, as
:meth:`~HybridRetriever.search` does, so the hits are identical to one search per need; the
batch encoder's vectors differ in the last bits and would reorder near ties).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from data.records import Enterprise, Need

if TYPE_CHECKING:
    from api.workflows import Workflows
    from embeddings.corpus import Hit
    from matching.matcher import Match

REUSE_MAX_AGE_S = 24 * 3600.0
"""A pairing run's edges are reused at most this long after the run (see the module doc)."""

BATCH = 64
"""Needs retrieved per :meth:`HybridRetriever.search_batch` call."""

Edge = tuple[str, float, str]
"""(talent id, edge score, explanation) of one need's ranked candidate."""


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def context_digest(workflows: Workflows) -> str:
    """What every need's ranking depends on besides the need and its enterprise (see the
    module doc); compute it *before* ranking, so a change during the run invalidates it."""
    from api.workflows import RETRIEVE_K

    manifest = workflows.index.manifest
    matcher = workflows.matcher
    ranker = matcher.ranker
    talents = sorted(workflows.app.store.hashes("talents").items())
    return _digest({
        "index": [manifest.get("data_hash"), manifest.get("encoder"), manifest.get("config")],
        "retrieve_k": RETRIEVE_K,
        "weights": matcher.fused.weights,
        "ranker": None if ranker is None else [getattr(ranker, a, None) for a in
                                               ("name", "version", "trained_at", "kind")],
        "rerank_depth": matcher.rerank_depth,
        "taxonomy": str(workflows.app.settings.taxonomy_dir or ""),
        "talents": hashlib.sha256("\n".join(f"{i} {h}" for i, h in talents).encode()).hexdigest(),
    })


def need_digest(need: Need, enterprise: Enterprise | None) -> str:
    """The need's and its enterprise's content (a need edited, or its enterprise, differs)."""
    return _digest([need.model_dump(mode="json"),
                    None if enterprise is None else enterprise.model_dump(mode="json")])


def enterprises_of(workflows: Workflows, needs: Sequence[Need]) -> dict[str, Enterprise]:
    """id → enterprise of the needs' enterprises."""
    from api.typed import many

    ids = list(dict.fromkeys(n.enterprise_id for n in needs if n.enterprise_id))
    return many(Enterprise, workflows.app.store.get_many("enterprises", ids))


def run_rows(needs: Sequence[Need], enterprises: Mapping[str, Enterprise],
             edges: Sequence[tuple[str, str, float]],
             matches: Mapping[tuple[str, str], Match]) -> list[tuple[str, str, list[Any]]]:
    """The ``run_edges`` rows of a run: (need id, basis, [[talent, score, explanation], …])
    per need, the edges in rank order (needs without a candidate get an empty list)."""
    ranked: dict[str, list[Any]] = {n.id: [] for n in needs}
    for need_id, talent_id, score in edges:
        match = matches.get((need_id, talent_id))
        ranked[need_id].append([talent_id, float(score),
                                "" if match is None else match.explanation])
    return [(n.id, need_digest(n, enterprises.get(n.enterprise_id or "")), ranked[n.id])
            for n in needs]


def _age_s(created_at: dt.datetime | None) -> float:
    if created_at is None:
        return float("inf")
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=dt.UTC)
    return (dt.datetime.now(dt.UTC) - created_at).total_seconds()


def reusable_edges(workflows: Workflows, needs: Sequence[Need], k: int,
                   enterprises: Mapping[str, Enterprise]) -> tuple[str | None, dict[str, list[Edge]]]:
    """The latest pairing run's top ``k`` edges of the needs it covers unchanged.

    Args:
        workflows: the workflows (store, index, matcher).
        needs: the needs wanted.
        k: edges per need.
        enterprises: id → enterprise of the needs' enterprises (current records).

    Returns:
        (the run's id or None, need id → its edges in rank order) — only needs whose
        stored edges equal a fresh ranking's (see the module doc).
    """
    store = workflows.app.store
    latest = store.reviews.runs(kind="pairing", limit=1)
    if not latest:
        return None, {}
    run = latest[0]
    info = (run.result or {}).get("edges") or {}
    if (int(info.get("k") or 0) < k or not 0 <= _age_s(run.created_at) <= REUSE_MAX_AGE_S
            or info.get("context") != context_digest(workflows)):
        return None, {}
    stored = store.reviews.run_edges(run.id, [n.id for n in needs])
    out: dict[str, list[Edge]] = {}
    for need in needs:
        found = stored.get(need.id)
        if found is not None and found[0] == need_digest(
                need, enterprises.get(need.enterprise_id or "")):
            out[need.id] = [(str(t), float(s), str(e)) for t, s, e in found[1][:k]]
    return run.id, out


def batched_hits(workflows: Workflows, needs: Sequence[Need], k: int) -> Iterator[list[Hit]]:
    """Each need's retrieval hits, in order, as ``index.talents_for(need_text(need), k)``
    gives them, retrieved :data:`BATCH` needs at a time (lazily, block by block)."""
    from embeddings.render import need_text

    retriever = workflows.index.retrievers["talents"]
    for lo in range(0, len(needs), BATCH):
        texts = [need_text(n) for n in needs[lo:lo + BATCH]]
        vectors = np.stack([retriever.query_vector(t) for t in texts])
        yield from retriever.search_batch(texts, k=k, query_vectors=vectors)
