"""Retrieval settings: one pydantic model, saved with each built index.

Signals and their default weights (convex fusion):

- ``dense_profile`` (0.36): cosine between the query vector and the document's profile
  vector (for a talent: disciplines, research directions, title, organisation …).
- ``dense_items`` (0.24): the document's item similarities (achievements) aggregated per
  owner by ``item_aggregation`` (``max`` by default). A document without items uses its
  profile similarity here; when no document of the corpus has items the signal is dropped
  and its weight goes to ``dense_profile``.
- ``bm25`` (0.40): BM25 over jieba tokens + CJK bigrams of profile and items together.

So dense as a whole weighs 0.6 and lexical 0.4 (the share of profile within dense is 0.6).
These defaults are a reasoned starting point (dense carries synonyms and cross-lingual
matches, BM25 exact domain terms such as 「尼龙66」); tune them on the evaluator's data.

Convex fusion normalises each signal over the candidate pool of the query: BM25 divided by
its maximum (0 = no shared token), dense signals min–max scaled to [0, 1]. The final score is
``Σ weight · normalised`` and each term is reported as that signal's contribution. RRF fusion
scores ``Σ weight / (rrf_k + rank)`` with ranks taken within the candidate pool (a document
without any shared token gets no BM25 term).

The candidate pool of a query is the union of the top ``dense_candidates`` by the summary
vector (``profile_weight · profile + (1 − profile_weight) · item centroid``, one mat-vec) and
the top ``bm25_candidates`` by BM25; when the corpus has at most ``exact_items_max`` items,
the top ``dense_candidates`` by exhaustively aggregated item scores join too. Only pool
members get their item scores computed, which keeps one query at 114k documents cheap.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RetrievalConfig(BaseModel):
    """Settings of hybrid retrieval (indexes, aggregation, fusion)."""

    model_config = ConfigDict(extra="forbid")

    fusion: Literal["convex", "rrf"] = Field("convex", description="how signals are fused")
    dense_weight: float = Field(0.6, ge=0, le=1, description="dense share; BM25 gets the rest")
    profile_weight: float = Field(
        0.6, ge=0, le=1, description="share of the profile vector within dense (items: rest)"
    )
    rrf_k: int = Field(60, ge=1, description="RRF constant")
    dense_candidates: int = Field(200, ge=1, description="top-N from the dense summary index")
    bm25_candidates: int = Field(200, ge=1, description="top-N from BM25")
    item_aggregation: Literal["max", "topk_weighted", "centroid"] = "max"
    topk: int = Field(3, ge=1, le=20, description="items counted by topk_weighted")
    topk_normalise: bool = Field(True, description="divide topk_weighted by 1 + 1/2 + … + 1/k")
    exact_items_max: int = Field(
        50_000, ge=0, description="up to this many items, item scores are exhaustive"
    )
    ann_threshold: int = Field(100_000, ge=0, description="above this many docs, use HNSW")
    hnsw_m: int = Field(32, ge=4)
    hnsw_ef_search: int = Field(128, ge=8)
    hnsw_ef_construction: int = Field(80, ge=8)
    ann_rescore_factor: int = Field(4, ge=1, description="HNSW candidates per result")
    ann_max_delta: float = Field(
        0.05, ge=0, le=1,
        description="an update keeps the previous version's graph while at most this share "
                    "of documents is new or changed since it was built (scanned exactly)")
    bm25_k1: float = Field(1.5, gt=0)
    bm25_b: float = Field(0.75, ge=0, le=1)
    bm25_method: Literal["lucene", "robertson", "atire"] = "lucene"
    batch_chunk: int = Field(64, ge=1, description="queries per block in search_batch")

    def signal_weights(self, has_items: bool = True) -> dict[str, float]:
        """Fusion weight of each signal (they sum to 1).

        Args:
            has_items: whether any document of the corpus has items.

        Returns:
            ``{"dense_profile": …, "dense_items": …, "bm25": …}`` (no ``dense_items`` when
            ``has_items`` is False).
        """
        d = self.dense_weight
        if not has_items:
            return {"dense_profile": d, "bm25": 1.0 - d}
        return {
            "dense_profile": d * self.profile_weight,
            "dense_items": d * (1.0 - self.profile_weight),
            "bm25": 1.0 - d,
        }
