"""Methods under evaluation: the protocol, the baselines, candidate lists and the retriever adapter.

A *method* is any object with a ``name`` and two calls, made by the evaluator in this order
on the same needs and talents:

1. ``rank(needs, talents, k)`` → ``{need_id: [(talent_id, score), ...]}``, best first, at
   most ``k`` per need. The evaluator calls it on consecutive chunks of the needs (same
   ``talents`` object each time) so that it can show progress;
2. ``score_pairs(pairs)`` → one float per ``(need_id, talent_id)`` pair (the labelled pairs,
   for the pairwise loss), once, after all ``rank`` chunks. A method may use what it
   computed in ``rank``.

Scores must be comparable *across needs* for the pairwise loss (it compares one talent's
scores for different needs). Methods that only produce candidate lists (retrievers) derive
their pair scores from those lists, see :class:`CandidateListMethod`: a talent outside a
need's candidate list gets the method's floor score ``-inf``, below every retrieved score,
so all such pairs tie at the bottom (half cost in the pairwise loss).

Rows (``needs`` and ``talents``) are the dicts of the exchange format; only their ``"id"``
is read here, the retriever adapter renders the rest into text.

The protocol and its types are in :mod:`evaluation.protocol`, the random and constant
baselines in :mod:`evaluation.baselines`; both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.baselines import ConstantMethod, RandomMethod
from evaluation.protocol import (
    DEFAULT_PAIR_DEPTH,
    FLOOR_SCORE,
    Method,
    Pair,
    Ranking,
    Row,
)

# ------------------------------------------------------------------ candidate-list methods


class CandidateListMethod:
    """Base for methods that only yield candidate lists (e.g. retrievers).

    ``rank`` asks the subclass for ``depth`` candidates per need, where ``depth`` is every
    talent when there are at most ``pair_depth`` of them, else ``max(k, pair_depth)``; it keeps
    their scores for ``score_pairs`` and returns the first ``k``. Pairs outside the kept lists
    score :data:`FLOOR_SCORE`. Memory: ``len(needs) * depth`` scores.

    Args:
        name: the method's name in the report.
        pair_depth: candidates kept per need for pair scores.
    """

    def __init__(self, name: str, pair_depth: int = DEFAULT_PAIR_DEPTH) -> None:
        self.name = name
        self.pair_depth = pair_depth
        self._pair_scores: dict[Pair, float] = {}
        self._talents: Sequence[Row] | None = None

    def candidates(self, needs: Sequence[Row], talents: Sequence[Row], depth: int) -> Ranking:
        """Subclasses return up to ``depth`` (talent_id, score) per need, best first."""
        raise NotImplementedError

    def rank(self, needs: Sequence[Row], talents: Sequence[Row], k: int) -> Ranking:
        """Top ``k`` per need; remembers deeper candidates for :meth:`score_pairs`.

        Args:
            needs: need rows.
            talents: talent rows.
            k: list length.

        Returns:
            ``{need_id: [(talent_id, score), ...]}``, best first.
        """
        if talents is not self._talents:  # a new talent set: forget earlier candidates
            self._pair_scores = {}
            self._talents = talents
        n = len(talents)
        depth = n if n <= self.pair_depth else max(k, self.pair_depth)
        lists = self.candidates(needs, talents, depth)
        self._pair_scores.update(
            ((need_id, tid), score) for need_id, hits in lists.items() for tid, score in hits
        )
        return {need_id: hits[:k] for need_id, hits in lists.items()}

    def score_pairs(self, pairs: Sequence[Pair]) -> np.ndarray:
        """Kept candidate score per pair, :data:`FLOOR_SCORE` when not a candidate.

        Args:
            pairs: ``(need_id, talent_id)`` pairs.

        Returns:
            Float array, one score per pair.
        """
        get = self._pair_scores.get
        return np.fromiter((get(p, FLOOR_SCORE) for p in pairs), dtype=float, count=len(pairs))


MethodFactory = Callable[..., Method]
"""Builds a method; called with keyword arguments ``encoder`` (name) and ``shared`` (a dict
that factories of one run may use to share expensive state, such as one built retriever)."""


# ------------------------------------------------------------------ retriever adapter


class RetrieverBackend:
    """One lazily built :class:`embeddings.hybrid.HybridRetriever`, shared by the bm25,
    dense and hybrid methods of one evaluation run (the talents are encoded once).

    The ``embeddings`` package is imported on first use only, so this module (and the
    evaluator's tests) work before or without it.

    Args:
        encoder: encoder name for ``embeddings.encoders.make_encoder``, or an encoder object
            (anything with ``id``, ``dim``, ``encode`` and ``encode_query``).
        threads: BLAS threads for the encoder.
        cache_dir: embedding cache folder, or ``None``.
        config: retriever configuration passed through to ``HybridRetriever``.
        chars: index the character field (False: the older words + bigrams single field,
            for the ablation methods ``bm25-v1`` and ``hybrid-v1``).
    """

    def __init__(
        self,
        encoder: str | Any,
        threads: int = 2,
        cache_dir: str | None = None,
        config: Any = None,
        chars: bool = True,
    ) -> None:
        self.chars = chars
        self.encoder_name = encoder
        self.threads = threads
        self.cache_dir = cache_dir
        self.config = config
        self._built_for: tuple[str, ...] | None = None
        self._retriever: Any = None
        self.needs_encoder = False
        """Set by the dense and hybrid methods; a bm25-only run never loads a model."""

    def retriever(self, talents: Sequence[Row]) -> Any:
        """The retriever built over ``talents`` (built on the first call for these ids).

        Args:
            talents: talent rows of the exchange format.

        Returns:
            A built ``HybridRetriever``.
        """
        ids = tuple(str(t["id"]) for t in talents)
        stale = self._retriever is None or self._built_for != ids
        if stale or (self.needs_encoder and self._retriever.encoder is None):
            self._retriever = self._build(talents)
            self._built_for = ids
        return self._retriever

    def _build(self, talents: Sequence[Row]) -> Any:
        """Import embeddings, make the encoder and tokenizer, build the retriever.

        BM25 alone needs no encoder: for a bm25-only run the corpus gets placeholder zero
        vectors (dimension 1) and no model is loaded.
        """
        from embeddings.hybrid import Corpus, HybridRetriever
        from embeddings.render import exchange_talent_texts
        from embeddings.tokenize import Tokenizer

        encoder = self._encoder() if self.needs_encoder else None
        texts = [exchange_talent_texts(t) for t in talents]
        corpus = Corpus(
            ids=[str(t["id"]) for t in talents],
            profiles=[profile for profile, _ in texts],
            items=[items for _, items in texts],
        )
        if encoder is None:
            corpus.profile_vectors = np.zeros((len(texts), 1), dtype=np.float32)
            corpus.item_vectors = np.zeros((sum(len(i) for _, i in texts), 1), dtype=np.float32)
        retriever = HybridRetriever(encoder, Tokenizer(chars=self.chars), self.config)
        retriever.build(corpus)
        return retriever

    def _encoder(self) -> Any:
        """The encoder: an object given as ``encoder``, else ``make_encoder(name)``."""
        if not isinstance(self.encoder_name, str):
            return self.encoder_name
        from embeddings.encoders import make_encoder

        cache = Path(self.cache_dir) if self.cache_dir is not None else None
        return make_encoder(self.encoder_name, threads=self.threads, cache_dir=cache)

    @staticmethod
    def queries(needs: Sequence[Row]) -> list[str]:
        """Query text of each need (``embeddings.render.exchange_need_text``)."""
        from embeddings.render import exchange_need_text

        return [exchange_need_text(n) for n in needs]


class RetrieverMethod(CandidateListMethod):
    """A retrieval mode of the shared backend (``"bm25"``, ``"dense"`` or ``"hybrid"``).

    Args:
        mode: the ``method`` argument of ``HybridRetriever.search_batch``.
        backend: the shared backend.
        pair_depth: candidates kept per need for pair scores.
    """

    def __init__(
        self, mode: str, backend: RetrieverBackend, pair_depth: int = DEFAULT_PAIR_DEPTH
    ) -> None:
        super().__init__(mode, pair_depth)
        self.mode = mode
        self.backend = backend
        if mode != "bm25":
            backend.needs_encoder = True

    def candidates(self, needs: Sequence[Row], talents: Sequence[Row], depth: int) -> Ranking:
        """Up to ``depth`` hits per need from the retriever.

        Args:
            needs: need rows.
            talents: talent rows.
            depth: hits per need.

        Returns:
            ``{need_id: [(talent_id, score), ...]}``, best first.
        """
        retriever = self.backend.retriever(talents)
        results = retriever.search_batch(self.backend.queries(needs), depth, self.mode)
        return {
            str(n["id"]): [(str(h.id), float(h.score)) for h in hits]
            for n, hits in zip(needs, results, strict=True)
        }


# ------------------------------------------------------------------------- the registry


def _backend(shared: dict[str, Any], encoder: str) -> RetrieverBackend:
    """The run's shared retriever backend, created on first request."""
    if "retriever" not in shared:
        shared["retriever"] = RetrieverBackend(encoder, cache_dir=shared.get("cache_dir"))
    backend: RetrieverBackend = shared["retriever"]
    return backend


def _retriever_factory(mode: str, chars: bool = True) -> MethodFactory:
    """Factory of the retriever method ``mode`` (``chars=False``: the v1 tokenizer)."""

    def factory(*, encoder: str, shared: dict[str, Any]) -> Method:
        if chars:
            return RetrieverMethod(mode, _backend(shared, encoder))
        if "retriever_v1" not in shared:
            shared["retriever_v1"] = RetrieverBackend(encoder, cache_dir=shared.get("cache_dir"),
                                                      chars=False)
        method = RetrieverMethod(mode, shared["retriever_v1"])
        method.name = f"{mode}-v1"
        return method

    return factory


METHODS: dict[str, MethodFactory] = {
    "random": lambda **_: RandomMethod(seed=0),
    "constant": lambda **_: ConstantMethod(),
    "bm25": _retriever_factory("bm25"),
    "dense": _retriever_factory("dense"),
    "hybrid": _retriever_factory("hybrid"),
    "bm25-v1": _retriever_factory("bm25", chars=False),
    "hybrid-v1": _retriever_factory("hybrid", chars=False),
    "ranked": lambda **kw: __import__("evaluation.ranked", fromlist=["_"]).ranked_factory(**kw),
    "talentmatch": lambda **kw: __import__(
        "evaluation.production", fromlist=["_"]).production_factory(**kw),
    "talentmatch-fused": lambda **kw: __import__(
        "evaluation.production", fromlist=["_"]).fused_calibrated_factory(**kw),
    "talentmatch-learned": lambda **kw: __import__(
        "evaluation.production", fromlist=["_"]).learned_factory(**kw),
    "talentmatch-ordered": lambda **kw: __import__(
        "evaluation.production", fromlist=["_"]).ordered_factory(**kw),
}
"""Known method names and their factories; :func:`register_method` adds more."""


class UnknownMethodError(ValueError):
    """A method name that is not registered."""


def register_method(name: str, factory: MethodFactory) -> None:
    """Register (or replace) a method factory under ``name``.

    Args:
        name: the name used on the command line and in reports.
        factory: called as ``factory(encoder=..., shared=...)``, returns a :class:`Method`.
    """
    METHODS[name] = factory


def make_methods(names: Sequence[str], encoder: str, cache_dir: str | None = None
                 ) -> list[Method]:
    """Build the named methods; one shared dict lets them share a retriever.

    Args:
        names: method names, e.g. ``["bm25", "dense", "hybrid"]``.
        encoder: encoder name for the dense and hybrid methods.
        cache_dir: embedding cache folder (None: no cache).

    Returns:
        The methods, in the given order, without duplicates.

    Raises:
        UnknownMethodError: for a name not in :data:`METHODS`; the message lists known names.
    """
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        known = ", ".join(sorted(METHODS))
        raise UnknownMethodError(
            f"未知的评测方法 (methods): {', '.join(unknown)}；可选: {known} "
            f"/ unknown method {', '.join(unknown)}; known: {known}"
        )
    shared: dict[str, Any] = {"cache_dir": cache_dir}
    return [METHODS[n](encoder=encoder, shared=shared) for n in dict.fromkeys(names)]
