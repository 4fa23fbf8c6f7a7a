"""``talentmatch``: the production pipeline as one evaluation method.

What the service does for a need, end to end, under one stable name:

1. hybrid retrieval (the run's shared retriever: dense profile + items, BM25 over the word
   and character fields), top :data:`evaluation.ranked.TOP_N`;
2. the matcher's pair features, conflict and eligibility rules, fused scoring;
3. the calibrated scorer (:mod:`matching.calibration`), trained **self-supervised on the
   evaluated talents alone** (:func:`matching.calibration.train_self_supervised`: pseudo-needs
   from held-out items), exactly as ``talentmatch ranker train --self-supervised`` trains it
   on the library. The needs and qrels of the run are never passed to training.

Scores are calibrated probabilities, so the evaluator reports their ECE. Works on exchange
files that carry only id, name, text and items.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from data.records import Talent
from evaluation.methods import Method, RetrieverBackend, Row, _backend, register_method
from evaluation.ranked import TOP_N, RankedMethod
from matching.calibration import (
    DEFAULT_FEATURES,
    LEARNED_FEATURES,
    ORDER_FEATURES,
    CandidateFn,
    SearchFn,
    train_self_supervised,
)
from matching.matcher import Matcher
from matching.ranker import RankerModel
from matching.training_sources import matcher_candidates, text_search

PSEUDO_LIMIT = 2000
"""Pseudo-needs per training run (as ``ranker train --self-supervised`` by default)."""


class ProductionMethod(RankedMethod):
    """The service's scorer: retrieval, features, rules, fused + calibrated scoring.

    Args:
        backend: the run's shared retriever backend.
        limit: pseudo-needs for self-supervised training.
        seed: the pseudo-need draw's seed.
        name: the method's name in the report.
    """

    calibrated = True

    def __init__(self, backend: RetrieverBackend, limit: int = PSEUDO_LIMIT, seed: int = 0,
                 name: str = "talentmatch",
                 features: Sequence[str] = DEFAULT_FEATURES) -> None:
        super().__init__(backend, name=name)
        self.limit = limit
        self.seed = seed
        self.features = tuple(features)
        self.model: RankerModel | None = None
        self._trained_for: Sequence[Row] | None = None

    def _prepare(self, talents: Sequence[Row]) -> Matcher:
        fused = super()._prepare(talents)
        if self._trained_for is not talents or self.model is None:
            self.model = self.train(list(self._records.values()))
            self._trained_for = talents
        self._matcher = Matcher(fused.tables, self.weights, ranker=self.model, now=fused.now)
        return self._matcher

    def train(self, library: list[Talent]) -> RankerModel:
        """Train the calibrated scorer on the library alone (see the module doc).

        Args:
            library: the evaluated talents as records.

        Returns:
            The trained model.
        """
        return train_self_supervised(library, self._search_over, self._candidate_fn,
                                     limit=self.limit, seed=self.seed, names=self.features)

    def _search_over(self, library: list[Talent]) -> SearchFn:
        from embeddings.hybrid import library_search
        from embeddings.render import need_text, talent_texts
        from embeddings.tokenize import Tokenizer

        encoder = self.backend.retriever(self._talent_rows).encoder
        build = library_search(encoder, Tokenizer(), self.backend.config, TOP_N)
        return text_search(build, talent_texts, need_text)(library)

    def _candidate_fn(self, library: list[Talent]) -> CandidateFn:
        assert self.tables is not None
        return matcher_candidates(Matcher(self.tables, self.weights))(library)

    def candidates(self, needs: Sequence[Row], talents: Sequence[Row], depth: int) -> Any:
        """Ranked candidates with calibrated scores (see :class:`RankedMethod`)."""
        self._talent_rows = talents
        return super().candidates(needs, talents, depth)


def production_factory(*, encoder: str, shared: dict[str, Any]) -> Method:
    """Factory of the ``talentmatch`` method (shares the run's retriever backend).

    Args:
        encoder: encoder name.
        shared: the run's shared state.

    Returns:
        The method.
    """
    return ProductionMethod(_backend(shared, encoder))


def fused_calibrated_factory(*, encoder: str, shared: dict[str, Any]) -> Method:
    """Ablation ``talentmatch-fused``: the fused score calibrated alone (no learned weights).

    Its ranking is the ``ranked`` method's; only the scale changes (issue #10 item 1 alone).
    """
    return ProductionMethod(_backend(shared, encoder), name="talentmatch-fused",
                            features=("fused",))


def learned_factory(*, encoder: str, shared: dict[str, Any]) -> Method:
    """Ablation ``talentmatch-learned``: the calibrated model weighs every feature, the raw
    word overlaps too (``ranker train --self-supervised --learn-weights``)."""
    return ProductionMethod(_backend(shared, encoder), name="talentmatch-learned",
                            features=LEARNED_FEATURES)


def ordered_factory(*, encoder: str, shared: dict[str, Any]) -> Method:
    """Ablation ``talentmatch-ordered``: the fused order kept, only its scale learned
    (``ranker train --self-supervised --keep-order``; the default before 2026-12-07)."""
    return ProductionMethod(_backend(shared, encoder), name="talentmatch-ordered",
                            features=ORDER_FEATURES)


register_method("talentmatch", production_factory)
register_method("talentmatch-learned", learned_factory)
register_method("talentmatch-fused", fused_calibrated_factory)
register_method("talentmatch-ordered", ordered_factory)
