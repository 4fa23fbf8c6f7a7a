"""Adapters that give self-supervised training its search and candidate functions.

:func:`matcher_candidates` scores a pseudo-need's hits with the matcher's fused weights;
:func:`text_search` turns a text search builder (``embeddings.hybrid.library_search``) into
the record-level :data:`matching.calibration.SearchFn`. No SQL, HTTP or files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from data.records import Need, Talent
from matching.calibration import CandidateFn, SearchFn
from matching.features import HitLike
from matching.scorer import SCORER_FEATURES, to_matrix

if TYPE_CHECKING:
    from matching.matcher import Matcher


def matcher_candidates(matcher: Matcher) -> Callable[[list[Talent]], CandidateFn]:
    """Candidate functions from the matcher's fused scoring (features, no rules).

    Args:
        matcher: a matcher (its fused weights score the candidates).

    Returns:
        ``build(library)`` giving the :data:`CandidateFn` over that library.
    """

    def build(library: list[Talent]) -> CandidateFn:
        by_id = {t.id: t for t in library}

        def candidates(need: Need, hits: Sequence[HitLike]
                       ) -> tuple[list[str], np.ndarray, np.ndarray]:
            cands = matcher.candidates(need, hits, by_id)
            values = to_matrix([c.values for c in cands], SCORER_FEATURES)
            return [c.talent_id for c in cands], values, matcher.fused.score(values)[0]

        return candidates

    return build


def text_search(build: Callable[[list[tuple[str, str, list[str]]]],
                                Callable[[Sequence[str]], Sequence[Sequence[HitLike]]]],
                render_talent: Callable[[Talent], tuple[str, list[str]]],
                render_need: Callable[[Need], str]) -> Callable[[list[Talent]], SearchFn]:
    """Adapt a text search builder (``embeddings.hybrid.library_search``) to records.

    Args:
        build: builds a text search over ``(id, profile, items)`` documents.
        render_talent: a talent's profile and item texts.
        render_need: a need's query text.

    Returns:
        ``build_search(library)`` as :func:`train_self_supervised` wants it.
    """

    def build_search(library: list[Talent]) -> SearchFn:
        docs = [(t.id, *render_talent(t)) for t in library]
        search = build(docs)

        def run(needs: Sequence[Need]) -> list[list[HitLike]]:
            return [list(h) for h in search([render_need(n) for n in needs])]

        return run

    return build_search
