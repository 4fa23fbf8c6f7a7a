"""Hybrid retrieval: dense profile + dense items + BM25, fused per query.

One class serves both directions: talents for a need (corpus = talents with profile and
achievement texts, query = the need's text) and needs for a talent (corpus = needs, without
items, query = the talent's profile text, or its profile and item texts as a list).

Per query (see :mod:`embeddings.config` for the formulas and defaults):

1. the query vector (``encoder.encode_query``; a list of texts: the normalised mean of
   their vectors) and tokens (the :class:`~embeddings.tokenize.Tokenizer`);
2. candidates: top-N by the summary vectors (one mat-vec over documents), top-N by BM25
   (one sparse mat-vec), and, for small corpora, top-N by exhaustive item scores;
3. for the candidates only: profile cosine, item cosines aggregated per owner, BM25;
4. fusion (convex over normalised signals, or RRF) and the top k as :class:`Hit` objects
   whose ``contributions`` add up to ``score``.

``search_batch`` does step 2 for a block of queries at once (one matrix product for dense,
one sparse product for BM25) and steps 3–4 per query, so it returns what ``search`` would.

Documents, hits and protocols: :mod:`embeddings.corpus` (re-exported); fusion: :mod:`embeddings.fusion`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from embeddings import overlap
from embeddings.aggregate import (
    aggregate,
    centroids,
    fill_missing,
    offsets_from_counts,
)
from embeddings.config import RetrievalConfig
from embeddings.corpus import (
    METHODS,
    Corpus,
    Encoder,
    Hit,
    Query,
    TokenizerLike,
    check_method,
    summary_vectors,
)
from embeddings.dense import DenseIndex
from embeddings.fusion import convex_parts, pool_ranks, rrf_parts, small_dot
from embeddings.lexical import LexicalIndex, top_k
from embeddings.tokenize import FIELDS, split_fields

if TYPE_CHECKING:
    from embeddings.graph import Graph

__all__ = [
    "METHODS",
    "Corpus",
    "Encoder",
    "Hit",
    "HybridRetriever",
    "Query",
    "TokenizerLike",
    "library_search",
    "summary_vectors",
]


class HybridRetriever:
    """Dense (profile + aggregated items) and BM25 retrieval with fusion."""

    def __init__(self, encoder: Encoder | None, tokenizer: TokenizerLike,
                 config: RetrievalConfig | None = None) -> None:
        """A retriever; call :meth:`build` before searching.

        Args:
            encoder: the text encoder (None only when every vector is supplied).
            tokenizer: the BM25 tokenizer.
            config: retrieval settings (defaults when None).
        """
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.config = config or RetrievalConfig()
        self.ids: list[str] = []
        self.last_timings: dict[str, float] = {}

    # -- building ---------------------------------------------------------------------------
    def build(self, corpus: Corpus) -> None:
        """Index a corpus (replaces any previous one).

        Args:
            corpus: the documents, with optional precomputed vectors and tokens.
        """
        cfg, n = self.config, len(corpus.ids)
        items = corpus.items or [[] for _ in range(n)]
        if len(corpus.profiles) != n or len(items) != n:
            raise ValueError("ids, profiles and items must have the same length")
        self.ids = list(corpus.ids)
        self._offsets = offsets_from_counts([len(i) for i in items])
        self._counts = np.diff(self._offsets)
        self._profile = self._vectors(corpus.profile_vectors, corpus.profiles)
        flat = [t for doc in items for t in doc]
        self._items = self._vectors(corpus.item_vectors, flat, self._profile.shape[1])
        self.has_items = bool(self._counts.sum() > 0)
        if corpus.summary_vectors is not None and cfg.item_aggregation != "centroid":
            summary = np.asarray(corpus.summary_vectors, dtype=np.float32)
            self._centroids = np.zeros((0, 0), dtype=np.float32)
        else:
            cents = centroids(self._items, self._offsets)
            summary = summary_vectors(self._profile, cents, self._counts, cfg.profile_weight)
            # the centroids are kept only when they are the item signal (memory: n × dim)
            self._centroids = (cents if cfg.item_aggregation == "centroid"
                               else np.zeros((0, 0), dtype=np.float32))
            del cents
        self._summary = DenseIndex(
            self._profile.shape[1], ann_threshold=cfg.ann_threshold, hnsw_m=cfg.hnsw_m,
            ef_construction=cfg.hnsw_ef_construction, ef_search=cfg.hnsw_ef_search,
            rescore_factor=cfg.ann_rescore_factor,
        )
        self._summary.attach(self.ids, summary)  # no copy (a memory-mapped file stays one)
        if corpus.lexical is not None:
            if corpus.lexical.ids != self.ids:
                raise ValueError("the prebuilt lexical index has other ids than the corpus")
            self._lexical = corpus.lexical
            return
        tokens = corpus.token_lists
        if tokens is None:
            tokens = [self._doc_tokens(p, d) for p, d in zip(corpus.profiles, items, strict=True)]
        self._lexical = LexicalIndex(cfg.bm25_k1, cfg.bm25_b, cfg.bm25_method)
        self._lexical.build(tokens, self.ids, keep_tokens=False)

    def attach_graph(self, graph: Graph) -> None:
        """Search the dense summary through a persisted graph (:mod:`embeddings.graph`).

        Args:
            graph: the graph loaded for this retriever's documents.
        """
        self._summary.attach_graph(graph)

    def _vectors(self, given: np.ndarray | None, texts: list[str], dim: int = 0) -> np.ndarray:
        if given is not None:
            vecs = np.ascontiguousarray(given, dtype=np.float32)
            if vecs.shape[0] != len(texts):
                raise ValueError(f"{vecs.shape[0]} vectors for {len(texts)} texts")
            return vecs
        if not texts:
            return np.zeros((0, dim or self._require_encoder().dim), dtype=np.float32)
        return np.asarray(self._require_encoder().encode(texts), dtype=np.float32)

    def _require_encoder(self) -> Encoder:
        if self.encoder is None:
            raise ValueError("no encoder: supply vectors or an encoder")
        return self.encoder

    def _doc_tokens(self, profile: str, items: list[str]) -> list[str]:
        return [tok for text in (profile, *items) for tok in self.tokenizer.tokenize(text)]

    # -- queries ----------------------------------------------------------------------------
    def query_vector(self, query: Query) -> np.ndarray:
        """The query's vector: ``encode_query`` of a text, or the mean of several, normalised.

        Args:
            query: a text or a list of texts (e.g. a talent's profile and item texts).

        Returns:
            ``(dim,)`` float32.
        """
        enc = self._require_encoder()
        if isinstance(query, str):
            return np.asarray(enc.encode_query(query), dtype=np.float32).reshape(-1)
        texts = [t for t in query if t]
        if not texts:
            return np.zeros(self._profile.shape[1], dtype=np.float32)
        mean = np.asarray(enc.encode(texts), dtype=np.float32).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else mean

    def query_vectors(self, queries: Sequence[Query]) -> np.ndarray:
        """Vectors of many queries: one ``encode_queries`` batch when all are texts.

        Args:
            queries: texts (or lists of texts, each as :meth:`query_vector`).

        Returns:
            ``(len(queries), dim)`` float32.
        """
        enc = self._require_encoder()
        batch = getattr(enc, "encode_queries", None)
        if batch is not None and queries and all(isinstance(q, str) for q in queries):
            return np.asarray(batch(list(queries)), dtype=np.float32)
        return np.stack([self.query_vector(q) for q in queries])

    def query_tokens(self, query: Query) -> list[str]:
        """The query's BM25 tokens (all texts of a list).

        Args:
            query: a text or a list of texts.

        Returns:
            Tokens.
        """
        texts = [query] if isinstance(query, str) else list(query)
        return [tok for t in texts for tok in self.tokenizer.tokenize(t)]

    def search(self, query: Query, k: int = 50, method: str = "hybrid",
               query_vector: np.ndarray | None = None) -> list[Hit]:
        """Top-k documents for one query.

        Args:
            query: the query text (or texts).
            k: how many hits.
            method: ``hybrid``, ``bm25`` or ``dense``.
            query_vector: a precomputed query vector (skips encoding).

        Returns:
            Hits, best first. ``self.last_timings``: seconds of ``bm25``, ``wait`` (the dense
            stage beyond BM25), ``fuse``, and the dense stage's ``encode`` and ``dense``.
        """
        check_method(method)
        if not self.ids:
            return []
        t = {"start": time.perf_counter()}
        # hybrid: encoding + the dense index run on the query pool while BM25 runs here
        dense_job = (overlap.submit(self._dense_stage, query, query_vector)
                     if method == "hybrid" else None)
        bm25 = fields = None
        if method != "dense":
            bm25, fields = self._bm25_fields([self.query_tokens(query)])
            bm25, fields = bm25[:, 0], {f: v[:, 0] for f, v in fields.items()}
        t["bm25"] = time.perf_counter()
        qv, dense_rows, inner = (dense_job.result() if dense_job is not None
                                 else self._dense_stage(query, query_vector) if method == "dense"
                                 else (None, None, {}))
        t["wait"] = time.perf_counter()
        exhaustive = None
        if qv is not None:
            full = self._exhaustive_items(qv[:, None])
            exhaustive = None if full is None else full[:, 0]
        hits = self._rank(qv, bm25, dense_rows, exhaustive, k, method, fields)
        t["fuse"] = time.perf_counter()
        self.last_timings = {b: t[b] - t[a] for a, b in pairwise(list(t))} | inner
        return hits

    def _dense_stage(self, query: Query, query_vector: np.ndarray | None
                     ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        """The query vector and its top rows by the summary index (run on the query pool)."""
        t0 = time.perf_counter()
        qv = self.query_vector(query) if query_vector is None else query_vector
        t1 = time.perf_counter()
        rows = self._summary.search(qv, self.config.dense_candidates)[0]
        return qv, rows, {"encode": t1 - t0, "dense": time.perf_counter() - t1}

    def search_batch(self, queries: Sequence[Query], k: int = 50, method: str = "hybrid",
                     query_vectors: np.ndarray | None = None) -> list[list[Hit]]:
        """Top-k documents for many queries (what :meth:`search` returns for each).

        Args:
            queries: query texts (or lists of texts).
            k: hits per query.
            method: ``hybrid``, ``bm25`` or ``dense``.
            query_vectors: precomputed ``(len(queries), dim)`` query vectors.

        Returns:
            One hit list per query, in order.
        """
        check_method(method)
        if not self.ids:
            return [[] for _ in queries]
        out: list[list[Hit]] = []
        step = self.config.batch_chunk
        for lo in range(0, len(queries), step):
            chunk = list(queries[lo : lo + step])
            qvs = None if query_vectors is None else query_vectors[lo : lo + step]
            out.extend(self._search_chunk(chunk, k, method, qvs))
        return out

    def _search_chunk(self, chunk: list[Query], k: int, method: str,
                      qvs: np.ndarray | None) -> list[list[Hit]]:
        if method != "bm25" and qvs is None:
            qvs = self.query_vectors(chunk)
        bm25 = fields = None
        if method != "dense":
            bm25, fields = self._bm25_fields([self.query_tokens(q) for q in chunk])
        dense_rows = exhaustive = None
        if qvs is not None:
            qvs = np.asarray(qvs, dtype=np.float32)
            dense_rows = self._summary.search_batch(qvs, self.config.dense_candidates)[0]
            exhaustive = self._exhaustive_items(qvs.T)
        hits = []
        for j in range(len(chunk)):
            hits.append(self._rank(
                None if qvs is None else qvs[j],
                None if bm25 is None else bm25[:, j],
                None if dense_rows is None else dense_rows[j][dense_rows[j] >= 0],
                None if exhaustive is None else exhaustive[:, j],
                k, method,
                None if fields is None else {f: v[:, j] for f, v in fields.items()},
            ))
        return hits

    def _bm25_fields(self, token_lists: list[list[str]]
                     ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """BM25 of every document for each query, in total and per field.

        The total (``bm25``) is the score over all the query's tokens. Each field's score
        (the query's word tokens alone, its character tokens alone) is divided by that
        field's ceiling for the query (:meth:`LexicalIndex.ceiling`), so ``bm25_words`` and
        ``bm25_chars`` are shares in [0, 1] that mean the same for every query.

        Args:
            token_lists: the queries' tokens.

        Returns:
            ``(total (n, q), {"bm25_words": (n, q), "bm25_chars": (n, q)})``.
        """
        split = [split_fields(toks) for toks in token_lists]
        total = np.zeros((len(self.ids), len(token_lists)), dtype=np.float32)
        shares: dict[str, np.ndarray] = {}
        for f in FIELDS:
            lists = [s[f] for s in split]
            # one query: slice its posting columns (the same sums as the sparse product)
            scores = (self._lexical.score_all(lists[0])[:, None] if len(lists) == 1
                      else self._lexical.score_batch(lists))
            total += scores
            ceil = np.array([self._lexical.ceiling(t) for t in lists], dtype=np.float32)
            shares[f"bm25_{f}"] = np.divide(scores, ceil, out=np.zeros_like(scores),
                                            where=ceil > 0)
        return total, shares

    # -- scoring ----------------------------------------------------------------------------
    def _exhaustive_items(self, qmat: np.ndarray) -> np.ndarray | None:
        """Filled item signal of every document, ``(n, n_queries)``, for small corpora."""
        cfg = self.config
        total = int(self._counts.sum())
        if not self.has_items or total > cfg.exact_items_max:
            return None
        profile = self._profile @ qmat
        if cfg.item_aggregation == "centroid":
            items = self._centroids @ qmat
            items[self._counts == 0] = np.nan
        else:
            items = aggregate(self._items @ qmat, self._offsets, cfg.item_aggregation,
                              cfg.topk, cfg.topk_normalise)
        return fill_missing(items, profile)

    def _candidates(self, bm25: np.ndarray | None, dense_rows: np.ndarray | None,
                    exhaustive: np.ndarray | None, method: str) -> np.ndarray:
        cfg, parts = self.config, []
        if bm25 is not None and method != "dense":
            rows = top_k(bm25, cfg.bm25_candidates)
            parts.append(rows[bm25[rows] > 0])
        if dense_rows is not None:
            parts.append(dense_rows)
        if exhaustive is not None:
            parts.append(top_k(exhaustive, cfg.dense_candidates))
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def _item_signal(self, qv: np.ndarray, cand: np.ndarray, profile: np.ndarray) -> np.ndarray:
        cfg = self.config
        counts = self._counts[cand]
        if cfg.item_aggregation == "centroid":
            items = small_dot(self._centroids[cand], qv)
            items[counts == 0] = np.nan
        else:
            sub = offsets_from_counts(counts)
            rows = np.repeat(self._offsets[cand] - sub[:-1], counts) + np.arange(sub[-1])
            items = aggregate(small_dot(self._items[rows], qv), sub, cfg.item_aggregation,
                              cfg.topk, cfg.topk_normalise)
        return fill_missing(items, profile)

    def _rank(self, qv: np.ndarray | None, bm25: np.ndarray | None,
              dense_rows: np.ndarray | None, exhaustive: np.ndarray | None,
              k: int, method: str, fields: dict[str, np.ndarray] | None = None) -> list[Hit]:
        if method == "bm25":
            assert bm25 is not None
            rows = top_k(bm25, k)
            rows = rows[bm25[rows] > 0]
            return [Hit(self.ids[r], float(bm25[r]), {"bm25": float(bm25[r])},
                        {"bm25": float(bm25[r])}, {"bm25": i + 1}) for i, r in enumerate(rows)]
        assert qv is not None
        cand = self._candidates(bm25, dense_rows, exhaustive, method)
        raw = {"dense_profile": small_dot(self._profile[cand], qv)}
        if self.has_items:
            raw["dense_items"] = self._item_signal(qv, cand, raw["dense_profile"])
        if method == "dense":
            return self._dense_hits(cand, raw, k)
        assert bm25 is not None
        raw["bm25"] = bm25[cand]
        weights = self.config.signal_weights(self.has_items)
        if self.config.fusion == "rrf":
            parts, ranks = rrf_parts(raw, weights, self.config.rrf_k)
        else:
            parts, ranks = convex_parts(raw, weights)
        for name, values in (fields or {}).items():  # reported, not fused (features)
            raw[name] = values[cand]
        return self._hits(cand, raw, parts, ranks, k)

    def _dense_hits(self, cand: np.ndarray, raw: dict[str, np.ndarray], k: int) -> list[Hit]:
        w = self.config.profile_weight if self.has_items else 1.0
        parts = {"dense_profile": w * raw["dense_profile"]}
        if self.has_items:
            parts["dense_items"] = (1 - w) * raw["dense_items"]
        ranks = {s: pool_ranks(v) for s, v in raw.items()}
        return self._hits(cand, raw, parts, ranks, k)

    def _hits(self, cand: np.ndarray, raw: dict[str, np.ndarray], parts: dict[str, np.ndarray],
              ranks: dict[str, np.ndarray], k: int) -> list[Hit]:
        score = np.sum(list(parts.values()), axis=0)
        top = top_k(score, k)
        # Python numbers of the top rows only, converted once per signal (as float()/int())
        part = {s: v[top].astype(np.float64).tolist() for s, v in parts.items()}
        raws = {s: v[top].astype(np.float64).tolist() for s, v in raw.items()}
        rank = {s: v[top].tolist() for s, v in ranks.items()}
        totals, docs = score[top].astype(np.float64).tolist(), cand[top].tolist()
        return [Hit(self.ids[docs[j]], totals[j], {s: v[j] for s, v in part.items()},
                    {s: v[j] for s, v in raws.items()},
                    {s: int(v[j]) for s, v in rank.items() if v[j] > 0})
                for j in range(len(top))]


def library_search(encoder: Encoder, tokenizer: TokenizerLike, config: RetrievalConfig | None,
                   depth: int) -> Callable[[Sequence[tuple[str, str, Sequence[str]]]],
                                           Callable[[Sequence[str]], list[list[Hit]]]]:
    """A builder of search functions over small ad-hoc libraries (self-supervised training).

    Args:
        encoder: the encoder (behind the embedding cache, so unchanged texts cost nothing).
        tokenizer: the BM25 tokenizer.
        config: retrieval settings.
        depth: hits per query.

    Returns:
        ``build(docs)`` where ``docs`` are ``(id, profile, items)``; it builds a retriever
        and returns ``search(query_texts) -> hits per query``.
    """

    def build(docs: Sequence[tuple[str, str, Sequence[str]]]
              ) -> Callable[[Sequence[str]], list[list[Hit]]]:
        retriever = HybridRetriever(encoder, tokenizer, config)
        retriever.build(Corpus(ids=[d[0] for d in docs], profiles=[d[1] for d in docs],
                               items=[list(d[2]) for d in docs]))

        def search(queries: Sequence[str]) -> list[list[Hit]]:
            return retriever.search_batch(list(queries), depth, "hybrid")

        return search

    return build
