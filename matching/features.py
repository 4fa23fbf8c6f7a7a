"""Pair features of a (need, talent) pair, and the default fused score.

Every feature is a float in [0, 1]; ``NEUTRAL`` (0.5) stands for "unknown" where a feature's
input is missing, so a missing field neither rewards nor sinks a pair.

=============== =============================================================================
feature          value
=============== =============================================================================
``dense``        max of the raw cosines ``dense_profile`` / ``dense_items`` of the retrieval hit,
                 clipped to [0, 1] (0 without a hit or dense signal).
``lexical``      the hit's raw BM25 divided by the query's pool maximum (:class:`PoolStats`),
                 i.e. the same normalisation as retrieval's convex fusion; 0 when no token is
                 shared.
``coverage``     fraction of the need's required terms found in the talent's expertise text
                 (disciplines, research directions, achievements; not organisation or chains).
                 Required terms: each ``required_expertise`` item (found verbatim, or when
                 every chain term inside it is found: 「纺丝工艺」 via 「纺丝」, shown as
                 such), then the chain's domain terms in the need's title and description
                 that are not inside an item (all chains' terms when the need has no
                 chain; longest match first, so 「尼龙66切片」 yields 尼龙66). Matching is on
                 folded text (NFKC, lower case, no spaces), also through the tables'
                 synonyms; Latin/digit term edges must not touch another Latin letter or digit
                 (「尼龙6」 does not match 「尼龙66」). 0 when the need has no term.
``same_chain``   1 if the need's chain is one of the talent's chains, else 0.
``kind_fit``     ``kind_fit[need.kind][talent.category]`` (NEUTRAL when missing).
``tie``          1.0 hometown county = the need's (or enterprise's) county; 0.7 hometown in the
                 need's city (or a 籍贯 tie to it with the county unknown); 0.4 a 成长经历 /
                 情感联系 tie to the need's city only; else 0.
``availability`` full-time need: 1 with intent 全职, 0.2 with other intents, NEUTRAL without
                 intent. Other needs: 1 with intent 全职 or ``months_per_year`` ≥
                 max(3, need.min_months) (柔性引进 is ≥ 3 months a year on site, seed 003);
                 below that ``0.8 · months / required``; NEUTRAL when unknown.
``seniority``    only when the need asks (``min_title`` / ``min_level``, or a challenge's
                 eligibility): 1 meets every asked rule, 0 fails a known one, NEUTRAL when a
                 value is unknown. Not asked: NEUTRAL (constant within a need, so it never
                 changes a need's ranking; ``details.seniority_asked`` is False).
``freshness``    ``0.5 ** (age_days / 365)`` of the talent's ``updated_at`` (half-life one year;
                 the library is refreshed every 3 months, seed 002); NEUTRAL when unknown.
=============== =============================================================================

Per need, :func:`matching.need_context.prepare_need` compiles the term regexes once;
:func:`pair_features` is then cheap per candidate (a few regex searches over two short
strings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Protocol

from data.records import Enterprise, Need, Talent
from matching.need_context import NeedContext, RequiredTerm, prepare_need
from matching.tables import MatchingTables, norm

FEATURE_NAMES = ("dense", "lexical", "coverage", "same_chain", "kind_fit", "tie",
                 "availability", "seniority", "freshness")

DEFAULT_WEIGHTS: dict[str, float] = {
    "dense": 0.35, "lexical": 0.15, "coverage": 0.15, "same_chain": 0.08, "kind_fit": 0.07,
    "tie": 0.08, "availability": 0.06, "seniority": 0.03, "freshness": 0.03,
}
"""Fusion weights (sum 1). Topic evidence (dense + lexical + coverage) weighs 0.65: a pair
must first be about the same thing; programme fit (chain, kind, tie, availability) 0.29;
seniority and freshness break ties (0.06). Reasoned defaults; tune on review decisions."""

NEUTRAL = 0.5
FRESHNESS_HALF_LIFE_DAYS = 365.0
FLEX_MIN_MONTHS = 3
BELOW_MIN_SCALE = 0.8
NOT_FULL_TIME = 0.2
TIE_COUNTY, TIE_CITY, TIE_BOND = 1.0, 0.7, 0.4
FULL_TIME = "全职"
HOMETOWN_TIE = "籍贯"
BOND_TIES = ("成长经历", "情感联系")


class HitLike(Protocol):
    """What features read of a retrieval hit (``embeddings.hybrid.Hit``)."""

    raw: dict[str, float]


@dataclass
class PoolStats:
    """Per-query statistics of the retrieval pool (for normalising BM25)."""

    bm25_max: float = 0.0

    @classmethod
    def from_hits(cls, hits: Sequence[HitLike]) -> PoolStats:
        """Stats of one query's hits (the BM25 maximum among them).

        Args:
            hits: the hits of one query.

        Returns:
            The stats.
        """
        return cls(max((float(h.raw.get("bm25", 0.0)) for h in hits), default=0.0))


@dataclass
class PairDetails:
    """What the feature values are based on (for explanations and the review page)."""

    required_terms: list[str] = field(default_factory=list)
    matched_terms: list[str] = field(default_factory=list)
    matched_in_profile: list[str] = field(default_factory=list)
    matched_in_items: list[str] = field(default_factory=list)
    found_as: dict[str, str] = field(default_factory=dict)
    chain: str | None = None
    kind: str | None = None
    kind_label: str | None = None
    category: str | None = None
    kind_fit_known: bool = False
    city: str | None = None
    city_abbrev: str | None = None
    hometown_county: str | None = None
    tie_basis: str | None = None
    ties: list[str] = field(default_factory=list)
    availability_basis: str = "unknown"
    months_per_year: int | None = None
    months_required: int | None = None
    intents: list[str] = field(default_factory=list)
    seniority_asked: bool = False
    title_name: str | None = None
    level: str | None = None
    required_title: str | None = None
    required_level: str | None = None
    age_days: float | None = None


_DETAIL_FIELDS = tuple(f.name for f in fields(PairDetails))


@dataclass
class PairFeatures:
    """The feature values of one pair (see the module doc) and their basis."""

    dense: float = 0.0
    lexical: float = 0.0
    coverage: float = 0.0
    same_chain: float = 0.0
    kind_fit: float = NEUTRAL
    tie: float = 0.0
    availability: float = NEUTRAL
    seniority: float = NEUTRAL
    freshness: float = NEUTRAL
    details: PairDetails = field(default_factory=PairDetails)

    def as_dict(self) -> dict[str, float]:
        """The feature values by name (for ``Suggestion.features``)."""
        return {name: float(getattr(self, name)) for name in FEATURE_NAMES}

    def details_dict(self) -> dict[str, object]:
        """The details as plain JSON-able data (a shallow copy: the fields are scalars, lists
        of text and one text → text dict, so ``dataclasses.asdict``'s deep copy is not needed)."""
        out: dict[str, object] = {}
        for name in _DETAIL_FIELDS:
            value = getattr(self.details, name)
            out[name] = (list(value) if isinstance(value, list)
                         else dict(value) if isinstance(value, dict) else value)
        return out


def pair_features(ctx: NeedContext, talent: Talent, hit: HitLike | None = None,
                  pool: PoolStats | None = None, now: datetime | None = None) -> PairFeatures:
    """All features of one pair.

    Args:
        ctx: the need's context (:func:`prepare_need`).
        talent: the candidate.
        hit: the candidate's retrieval hit (None: dense and lexical are 0).
        pool: the query's pool stats (None: taken from this hit alone).
        now: the reference time for freshness (default: now, UTC).

    Returns:
        The features with their details.
    """
    kind = str(ctx.need.kind)
    d = PairDetails(kind=kind, kind_label=ctx.tables.kind_labels.get(kind, kind),
                    category=talent.category, city=ctx.city,
                    city_abbrev=ctx.tables.abbrev(ctx.city))
    f = PairFeatures(details=d)
    f.dense, f.lexical = _retrieval(hit, pool)
    f.coverage = _coverage(ctx, talent, d)
    f.same_chain = _same_chain(ctx, talent, d)
    f.kind_fit = _kind_fit(ctx, talent, d)
    f.tie = _tie(ctx, talent, d)
    f.availability = _availability(ctx, talent, d)
    f.seniority = _seniority(ctx, talent, d)
    f.freshness = _freshness(talent, now, d)
    return f


def features_for_hits(need: Need, talents: Mapping[str, Talent], hits: Sequence[HitLike],
                      tables: MatchingTables, enterprise: Enterprise | None = None,
                      now: datetime | None = None) -> dict[str, PairFeatures]:
    """Features of a need's retrieved candidates (hits whose talent is unknown are skipped).

    Args:
        need: the need.
        talents: talents by id.
        hits: the need's hits (objects with ``id`` and ``raw``).
        tables: the matching tables.
        enterprise: the need's enterprise, when known.
        now: the reference time for freshness.

    Returns:
        Features by talent id.
    """
    ctx, pool = prepare_need(need, tables, enterprise), PoolStats.from_hits(hits)
    out = {}
    for h in hits:
        talent = talents.get(str(getattr(h, "id", "")))
        if talent is not None:
            out[talent.id] = pair_features(ctx, talent, h, pool, now)
    return out


def fused_score(features: PairFeatures, weights: Mapping[str, float] | None = None
                ) -> tuple[float, dict[str, float]]:
    """The weighted sum of the features and each feature's contribution.

    Args:
        features: the pair's features.
        weights: weight per feature name (default :data:`DEFAULT_WEIGHTS`; missing names weigh 0).

    Returns:
        ``(score, {feature: weight · value})`` with every feature name present.

    Raises:
        ValueError: a weight names no feature.
    """
    weights = DEFAULT_WEIGHTS if weights is None else weights
    unknown = sorted(set(weights) - set(FEATURE_NAMES))
    if unknown:
        raise ValueError(f"unknown feature weights {unknown}; features are {list(FEATURE_NAMES)}")
    values = features.as_dict()
    contributions = {n: float(weights.get(n, 0.0)) * values[n] for n in FEATURE_NAMES}
    return sum(contributions.values()), contributions


# -- the features ---------------------------------------------------------------------------


def _clip(x: float) -> float:
    return min(1.0, max(0.0, float(x)))


def _retrieval(hit: HitLike | None, pool: PoolStats | None) -> tuple[float, float]:
    if hit is None:
        return 0.0, 0.0
    dense = [hit.raw[k] for k in ("dense_profile", "dense_items") if k in hit.raw]
    bm25 = float(hit.raw.get("bm25", 0.0))
    top = pool.bm25_max if pool is not None else bm25
    lexical = _clip(bm25 / top) if top > 0 else 0.0
    return _clip(max(dense, default=0.0)), lexical


def _expertise_texts(talent: Talent) -> tuple[str, str]:
    profile = norm("；".join([*talent.disciplines, *talent.research_directions]))
    items = norm("；".join(f"{a.title}。{a.text}" for a in talent.achievements))
    return profile, items


def _find(term: RequiredTerm, profile: str, items: str) -> tuple[str, str] | None:
    """Where a term is found (``"profile"`` / ``"items"``) and the wording found."""
    for where, text in (("profile", profile), ("items", items)):
        m = term.pattern.search(text)
        if m is not None:
            return where, m.group(0)
    if not term.inner:
        return None
    hits = [_find(RequiredTerm(t, p), profile, items) for t, p in term.inner]
    if any(h is None for h in hits):
        return None
    where = "profile" if all(h and h[0] == "profile" for h in hits) else "items"
    return where, "、".join(h[1] for h in hits if h)


def _coverage(ctx: NeedContext, talent: Talent, d: PairDetails) -> float:
    d.required_terms = [t.text for t in ctx.terms]
    if not ctx.terms:
        return 0.0
    profile, items = _expertise_texts(talent)
    for term in ctx.terms:
        found = _find(term, profile, items)
        if found is None:
            continue
        (d.matched_in_profile if found[0] == "profile" else d.matched_in_items).append(term.text)
        d.matched_terms.append(term.text)
        if found[1] != norm(term.text):
            d.found_as[term.text] = found[1]
    return len(d.matched_terms) / len(ctx.terms)


def _same_chain(ctx: NeedContext, talent: Talent, d: PairDetails) -> float:
    if not ctx.chain:
        return 0.0
    mine = {norm(ctx.tables.chain_of(c) or c) for c in talent.chains}
    if norm(ctx.chain) in mine:
        d.chain = ctx.chain
        return 1.0
    return 0.0


def _kind_fit(ctx: NeedContext, talent: Talent, d: PairDetails) -> float:
    row = ctx.tables.kind_fit.get(str(ctx.need.kind), {})
    if talent.category in row:
        d.kind_fit_known = True
        return _clip(row[talent.category])
    return NEUTRAL


def _same_city(ctx: NeedContext, talent: Talent) -> bool:
    mine = ctx.tables.city(talent.city) or talent.city
    return bool(ctx.city) and norm(mine) == norm(ctx.city)


def _tie(ctx: NeedContext, talent: Talent, d: PairDetails) -> float:
    county, ties = norm(talent.hometown_county), {norm(t) for t in talent.ties}
    d.hometown_county, d.ties = talent.hometown_county, list(talent.ties)
    if county and county in ctx.counties:
        d.tie_basis = "county"
        return TIE_COUNTY
    if (county and county in ctx.city_counties) or (
            not county and HOMETOWN_TIE in ties and _same_city(ctx, talent)):
        d.tie_basis = "city"
        return TIE_CITY
    if ties & set(BOND_TIES) and _same_city(ctx, talent):
        d.tie_basis = "bond"
        return TIE_BOND
    return 0.0


def _availability(ctx: NeedContext, talent: Talent, d: PairDetails) -> float:
    intents = [ctx.tables.intent(i) for i in talent.intent]
    d.intents, d.months_per_year = intents, talent.months_per_year
    if ctx.need.full_time:
        d.availability_basis = "full_time" if FULL_TIME in intents else (
            "not_full_time" if intents else "unknown")
        return 1.0 if FULL_TIME in intents else NOT_FULL_TIME if intents else NEUTRAL
    required = max(FLEX_MIN_MONTHS, ctx.need.min_months or FLEX_MIN_MONTHS)
    d.months_required = required
    if FULL_TIME in intents:
        d.availability_basis = "full_time"
        return 1.0
    months = talent.months_per_year
    if months is None:
        return NEUTRAL
    d.availability_basis = "months"
    return 1.0 if months >= required else BELOW_MIN_SCALE * months / required


def _requirement(ctx: NeedContext, attr: str) -> str | None:
    asked = [getattr(ctx.need, attr, None)]
    elig = getattr(ctx.need, "eligibility", None)
    if elig is not None:
        asked.append(getattr(elig, attr, None))
    rank = ctx.tables.title_rank if attr == "min_title" else ctx.tables.level_rank
    known = [(rank(a), a) for a in asked if a and rank(a) is not None]
    return max(known, key=lambda x: x[0] or 0)[1] if known else None


def _seniority(ctx: NeedContext, talent: Talent, d: PairDetails) -> float:
    tables = ctx.tables
    d.required_title = tables.title_name(tables.title_rank(_requirement(ctx, "min_title")))
    d.required_level = tables.level_name(_requirement(ctx, "min_level"))
    d.title_name = tables.title_name(tables.title_rank(talent.title))
    d.level = tables.level_name(talent.level)
    checks = []
    if d.required_title:
        checks.append(_meets(tables.title_rank(talent.title), tables.title_rank(d.required_title)))
    if d.required_level:
        checks.append(_meets(tables.level_rank(talent.level), tables.level_rank(d.required_level)))
    d.seniority_asked = bool(checks)
    if not checks or (None in checks and False not in checks):
        return NEUTRAL
    return 0.0 if False in checks else 1.0


def _meets(have: int | None, need: int | None) -> bool | None:
    return None if have is None or need is None else have >= need


def _freshness(talent: Talent, now: datetime | None, d: PairDetails) -> float:
    if talent.updated_at is None:
        return NEUTRAL
    now = _aware(now or datetime.now(UTC))
    d.age_days = max(0.0, (now - _aware(talent.updated_at)).total_seconds() / 86400.0)
    return 0.5 ** (d.age_days / FRESHNESS_HALF_LIFE_DAYS)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
