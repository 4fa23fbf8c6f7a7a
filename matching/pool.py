"""Features and rules of a need's whole candidate pool at once (the cache-miss path).

:func:`pool_features` returns, for one need and its retrieved talents, exactly what
:func:`matching.features.pair_features` returns pair by pair, and :func:`pool_rules` exactly
what :func:`matching.rules.check_pair` returns; ``tests/test_pool.py`` checks both on the
sample. What makes them cheap:

- **per talent, once**: the folded expertise texts, county, ties, chains, intents, 职称 and
  level ranks (:class:`TalentFacts`; the caller keeps them, e.g. the matcher's bounded
  cache, keyed by the talent object);
- **per need, once**: the seniority requirements, the availability rule, the place data;
- **per term, one regex scan for the pool**: each required term's pattern runs once over the
  pool's folded texts joined by ``"\\n"``. A newline is in no folded variant (folding drops
  whitespace) and is not a Latin letter or digit, so every match lies inside one text and the
  boundary look-arounds read it as that text's edge; the first match in each text is the one
  ``pattern.search`` would find in that text alone. A match's position gives its talent
  (bisection over the texts' starts) and the scan resumes at the next talent's text;
- **rules by what they read**: eligibility and need-level rules depend on six talent fields,
  and organisation conflicts on the organisation name alone, so each distinct value is
  checked once per need; the declared-avoid and relatives rules run only for talents that
  have such entries.
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from data.records import Enterprise, Need, Talent
from matching.features import (
    BELOW_MIN_SCALE,
    FLEX_MIN_MONTHS,
    FULL_TIME,
    NEUTRAL,
    NOT_FULL_TIME,
    HitLike,
    PairDetails,
    PairFeatures,
    PoolStats,
    _clip,
    _expertise_texts,
    _freshness,
    _meets,
    _requirement,
    _retrieval,
    _tie,
)
from matching.need_context import NeedContext, RequiredTerm, prepare_need
from matching.rules import (
    Reason,
    RuleResult,
    declared_conflicts,
    eligibility_rules,
    mentions,
    need_level_rules,
    same_org,
)
from matching.tables import MatchingTables, norm

FACTS_CACHE_SIZE = 20_000
"""Talents whose :class:`TalentFacts` a matcher keeps (LRU)."""

_SEP = "\n"


@dataclass(frozen=True)
class TalentFacts:
    """What features read of one talent, computed once (given the tables)."""

    talent: Talent
    profile: str
    items: str
    chains: frozenset[str]
    intents: tuple[str, ...]
    title_rank: int | None
    level_rank: int | None
    title_name: str | None
    level: str | None


def talent_facts(talent: Talent, tables: MatchingTables) -> TalentFacts:
    """The per-talent inputs of the features (see the module doc).

    Args:
        talent: the talent.
        tables: the matching tables.

    Returns:
        Its facts.
    """
    profile, items = _expertise_texts(talent)
    title_rank = tables.title_rank(talent.title)
    return TalentFacts(
        talent, profile, items, frozenset(norm(tables.chain_of(c) or c) for c in talent.chains),
        tuple(tables.intent(i) for i in talent.intent), title_rank,
        tables.level_rank(talent.level), tables.title_name(title_rank),
        tables.level_name(talent.level))


class FactsCache:
    """A bounded LRU of :class:`TalentFacts` by talent id, valid for the same talent object
    (a talent read afresh from the store is a new object, so its facts are recomputed)."""

    def __init__(self, tables: MatchingTables, size: int = FACTS_CACHE_SIZE) -> None:
        self.tables, self.size = tables, size
        self._data: OrderedDict[str, TalentFacts] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, talent: Talent) -> TalentFacts:
        """The facts of ``talent`` (computed when missing or for another object)."""
        with self._lock:
            found = self._data.get(talent.id)
            if found is not None and found.talent is talent:
                self._data.move_to_end(talent.id)
                return found
        facts = talent_facts(talent, self.tables)
        with self._lock:
            self._data[talent.id] = facts
            self._data.move_to_end(talent.id)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return facts


# -- features -------------------------------------------------------------------------------


@dataclass
class _NeedSide:
    """Per-need parts of the features that every candidate shares."""

    kind: str
    kind_label: str
    city_abbrev: str
    chain: str | None
    kind_fit: dict[str, float]
    full_time: bool
    months_required: int
    required_title: str | None
    required_level: str | None
    required_title_rank: int | None
    required_level_rank: int | None


def _need_side(ctx: NeedContext) -> _NeedSide:
    tables, need = ctx.tables, ctx.need
    kind = str(need.kind)
    req_title = tables.title_name(tables.title_rank(_requirement(ctx, "min_title")))
    req_level = tables.level_name(_requirement(ctx, "min_level"))
    return _NeedSide(
        kind, tables.kind_labels.get(kind, kind), tables.abbrev(ctx.city),
        norm(ctx.chain) if ctx.chain else None, tables.kind_fit.get(kind, {}),
        bool(need.full_time), max(FLEX_MIN_MONTHS, need.min_months or FLEX_MIN_MONTHS),
        req_title, req_level, tables.title_rank(req_title) if req_title else None,
        tables.level_rank(req_level) if req_level else None)


def pool_features(ctx: NeedContext, facts: Sequence[TalentFacts],
                  hits: Sequence[HitLike | None], pool: PoolStats | None = None,
                  now: datetime | None = None) -> list[PairFeatures]:
    """The features of every (need, talent) pair of a pool, as :func:`pair_features` gives.

    Args:
        ctx: the need's context (:func:`matching.need_context.prepare_need`).
        facts: the candidates' facts, in pool order.
        hits: their retrieval hits, in the same order.
        pool: the query's pool stats.
        now: the reference time for freshness.

    Returns:
        One :class:`PairFeatures` per candidate, in order.
    """
    side = _need_side(ctx)
    found = coverage_matches(ctx.terms, facts)
    terms = [t.text for t in ctx.terms]
    folded_terms = [norm(t) for t in terms]
    out = []
    for i, (fa, hit) in enumerate(zip(facts, hits, strict=True)):
        talent = fa.talent
        d = PairDetails(kind=side.kind, kind_label=side.kind_label, category=talent.category,
                        city=ctx.city, city_abbrev=side.city_abbrev)
        f = PairFeatures(details=d)
        f.dense, f.lexical = _retrieval(hit, pool)
        d.required_terms = list(terms)
        if terms:
            for j, where, text in found[i]:
                (d.matched_in_profile if where == "profile" else d.matched_in_items).append(
                    terms[j])
                d.matched_terms.append(terms[j])
                if text != folded_terms[j]:
                    d.found_as[terms[j]] = text
            f.coverage = len(d.matched_terms) / len(terms)
        if side.chain is not None and side.chain in fa.chains:
            d.chain, f.same_chain = ctx.chain, 1.0
        if talent.category in side.kind_fit:
            d.kind_fit_known = True
            f.kind_fit = _clip(side.kind_fit[talent.category])
        f.tie = _tie(ctx, talent, d)
        f.availability = _availability(side, fa, d)
        f.seniority = _seniority(side, fa, d)
        f.freshness = _freshness(talent, now, d)
        out.append(f)
    return out


def _availability(side: _NeedSide, fa: TalentFacts, d: PairDetails) -> float:
    intents = list(fa.intents)
    d.intents, d.months_per_year = intents, fa.talent.months_per_year
    full = FULL_TIME in intents
    if side.full_time:
        d.availability_basis = "full_time" if full else (
            "not_full_time" if intents else "unknown")
        return 1.0 if full else NOT_FULL_TIME if intents else NEUTRAL
    required = side.months_required
    d.months_required = required
    if full:
        d.availability_basis = "full_time"
        return 1.0
    months = fa.talent.months_per_year
    if months is None:
        return NEUTRAL
    d.availability_basis = "months"
    return 1.0 if months >= required else BELOW_MIN_SCALE * months / required


def _seniority(side: _NeedSide, fa: TalentFacts, d: PairDetails) -> float:
    d.required_title, d.required_level = side.required_title, side.required_level
    d.title_name, d.level = fa.title_name, fa.level
    checks = []
    if side.required_title:
        checks.append(_meets(fa.title_rank, side.required_title_rank))
    if side.required_level:
        checks.append(_meets(fa.level_rank, side.required_level_rank))
    d.seniority_asked = bool(checks)
    if not checks or (None in checks and False not in checks):
        return NEUTRAL
    return 0.0 if False in checks else 1.0


# -- coverage: one scan per term over the pool ----------------------------------------------


def first_matches(pattern: re.Pattern[str], texts: Sequence[str]) -> dict[int, str]:
    """The first match of ``pattern`` in each text (by text index; texts without one are
    absent), from one scan over the texts joined by newlines (see the module doc); after a
    match the scan goes on at the next text.

    Args:
        pattern: a term pattern (:func:`matching.tables.term_pattern`; it cannot match a
            newline or the empty string).
        texts: folded texts (no newlines).

    Returns:
        text index → the matched wording.
    """
    starts = list(itertools.accumulate((len(t) + 1 for t in texts), initial=0))
    joined, out, pos = _SEP.join(texts), {}, 0
    while (m := pattern.search(joined, pos)) is not None:
        i = bisect.bisect_right(starts, m.start()) - 1
        out[i] = m.group(0)
        pos = starts[i + 1]  # the next text: only the first match of each counts
    return out


def _joinable(terms: Sequence[RequiredTerm], facts: Sequence[TalentFacts]) -> bool:
    """Whether the one-scan method is exact here (it is for folded texts and term patterns;
    anything else takes the per-text path)."""
    pats = [t.pattern for t in terms] + [p for t in terms for _, p in t.inner]
    return (not any(p.match("") or p.search(_SEP) for p in pats)
            and not any(_SEP in fa.profile or _SEP in fa.items for fa in facts))


def coverage_matches(terms: Sequence[RequiredTerm], facts: Sequence[TalentFacts]
                     ) -> list[list[tuple[int, str, str]]]:
    """Where each required term is found in each candidate (``_find`` of
    :mod:`matching.features` for every pair).

    Args:
        terms: the need's required terms.
        facts: the candidates' facts.

    Returns:
        Per candidate, ``(term index, "profile" | "items", wording found)`` in term order.
    """
    out: list[list[tuple[int, str, str]]] = [[] for _ in facts]
    if not terms or not facts:
        return out
    if not _joinable(terms, facts):
        from matching.features import _find

        for i, fa in enumerate(facts):
            for j, term in enumerate(terms):
                hit = _find(term, fa.profile, fa.items)
                if hit is not None:
                    out[i].append((j, hit[0], hit[1]))
        return out
    profiles, items = [fa.profile for fa in facts], [fa.items for fa in facts]
    inner_cache: dict[str, tuple[dict[int, str], dict[int, str]]] = {}

    def scan(pattern: re.Pattern[str]) -> tuple[dict[int, str], dict[int, str]]:
        key = pattern.pattern
        if key not in inner_cache:
            inner_cache[key] = (first_matches(pattern, profiles), first_matches(pattern, items))
        return inner_cache[key]

    for j, term in enumerate(terms):
        in_profile, in_items = scan(term.pattern)
        missing = []
        for i in range(len(facts)):
            if i in in_profile:
                out[i].append((j, "profile", in_profile[i]))
            elif i in in_items:
                out[i].append((j, "items", in_items[i]))
            else:
                missing.append(i)
        if not term.inner or not missing:
            continue
        scans = [scan(p) for _, p in term.inner]
        for i in missing:
            parts = [("profile", p[i]) if i in p else ("items", it[i]) if i in it else None
                     for p, it in scans]
            if any(h is None for h in parts):
                continue
            where = "profile" if all(h and h[0] == "profile" for h in parts) else "items"
            out[i].append((j, where, "、".join(h[1] for h in parts if h)))
    return out


# -- rules ----------------------------------------------------------------------------------


def pool_rules(need: Need, talents: Sequence[Talent], tables: MatchingTables,
               enterprise: Enterprise | None = None) -> list[RuleResult]:
    """:func:`matching.rules.check_pair` of every talent of a pool (same reasons, same order).

    Args:
        need: the need or challenge.
        talents: the candidates.
        tables: the matching tables.
        enterprise: the need's enterprise, when known.

    Returns:
        One rule result per talent, in order.
    """
    places = tuple(tables.place_names())
    names = [n for n in (enterprise.name, enterprise.parent_company) if n] if enterprise else []
    org_conflict: dict[str | None, bool] = {}
    eligibility: dict[tuple[Any, ...], RuleResult] = {}
    elig = getattr(need, "eligibility", None)
    # without these, eligibility_rules and need_level_rules add nothing
    asked = elig is not None or bool(need.min_title or need.min_level or need.min_months)
    out = []
    for talent in talents:
        result = RuleResult()
        if talent.avoid or need.avoid:
            result.hard += declared_conflicts(need, talent, enterprise, places)
        if enterprise is not None:
            for org in (talent.organisation, talent.parent_organisation):
                if org not in org_conflict:
                    org_conflict[org] = any(same_org(org, n, places) for n in names)
                if org_conflict[org]:
                    result.hard.append(Reason("employed_by_enterprise",
                                              f"任职于需求企业（或其母公司、同一集团）：{org}"))
                    break
            if talent.relatives and any(mentions(r, n, places) for r in talent.relatives
                                        for n in names):
                result.hard.append(Reason("relative_at_enterprise",
                                          "申报的亲属或合伙人在需求企业任职或持股"))
        if asked:  # what the eligibility and need-level rules read of a talent
            key = (talent.title, talent.level, tuple(talent.intent), talent.months_per_year,
                   *((talent.nationality, talent.current_city) if elig is not None else ()))
            rest = eligibility.get(key)
            if rest is None:
                rest = RuleResult()
                eligibility_rules(need, talent, tables, rest)
                need_level_rules(need, talent, tables, rest)
                eligibility[key] = rest
            result.hard += rest.hard
            result.soft += rest.soft
        out.append(result)
    return out


def features_for_pool(need: Need, talents: Sequence[Talent], hits: Sequence[HitLike],
                      tables: MatchingTables, enterprise: Enterprise | None = None,
                      now: datetime | None = None, cache: FactsCache | None = None
                      ) -> list[PairFeatures]:
    """:func:`pool_features` from records: the need's context, the pool stats and facts.

    Args:
        need: the need.
        talents: the candidates, in pool order.
        hits: their hits, in the same order.
        tables: the matching tables.
        enterprise: the need's enterprise.
        now: the reference time for freshness.
        cache: where talent facts are kept (None: computed for this call).

    Returns:
        One :class:`PairFeatures` per candidate.
    """
    facts = [cache.get(t) if cache is not None else talent_facts(t, tables) for t in talents]
    return pool_features(prepare_need(need, tables, enterprise), facts, hits,
                         PoolStats.from_hits(hits), now)
