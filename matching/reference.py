"""The per-pair matcher, kept as the reference of the pooled one (tests and the cold bench).

:class:`ReferenceMatcher` ranks exactly as :class:`matching.matcher.Matcher` did before the
pool functions of :mod:`matching.pool`: :func:`matching.features.features_for_hits` (one
:func:`~matching.features.pair_features` per candidate, regexes per pair) and one
:func:`matching.rules.check_pair` per candidate. Results must be equal, field for field
(``tests/test_pool.py``; ``python -m benchmarks.bench_cold --reference``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from data.records import Enterprise, Need, Talent
from matching.features import HitLike, features_for_hits
from matching.matcher import Candidate, Matcher
from matching.rules import RuleResult, check_pair
from matching.scorer import feature_row, pool_max


class ReferenceMatcher(Matcher):
    """A :class:`Matcher` whose features and rules are computed pair by pair."""

    def candidates(self, need: Need, hits: Sequence[HitLike], talents: Mapping[str, Talent],
                   enterprise: Enterprise | None = None) -> list[Candidate]:
        """As :meth:`Matcher.candidates`, one pair at a time."""
        feats = features_for_hits(need, talents, hits, self.tables, enterprise, self.now)
        best = pool_max(hits)
        out, seen = [], set()
        for i, h in enumerate(hits):
            tid = str(getattr(h, "id", ""))
            pf = feats.get(tid)
            if pf is not None and tid not in seen:
                seen.add(tid)
                out.append(Candidate(tid, pf, feature_row(pf, h, best), i))
        return out

    def rules(self, need: Need, talents: Sequence[Talent], enterprise: Enterprise | None = None
              ) -> list[RuleResult]:
        """As :meth:`Matcher.rules`, one :func:`check_pair` per talent."""
        return [check_pair(need, t, self.tables, enterprise) for t in talents]


def reference_of(matcher: Matcher) -> ReferenceMatcher:
    """A reference matcher with ``matcher``'s tables, weights, ranker, clock and depth."""
    return ReferenceMatcher(matcher.tables, matcher.fused.weights, matcher.ranker, matcher.now,
                            matcher.rerank_depth)
