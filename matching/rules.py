"""Conflict-of-interest (回避) and eligibility rules for a (need, talent) pair.

:func:`check_pair` returns a :class:`RuleResult`: **hard** reasons remove the pair, **soft**
reasons keep it with a lower score (each soft reason multiplies the score by its ``factor``)
and show as 「⚠ …」 flags in the explanation.

Hard:

- declared conflicts: the talent's ``avoid`` names the enterprise (name, parent company or
  id) or the need (id); the need's ``avoid`` names the talent (name or id) or their
  organisation or parent organisation;
- detected conflicts: the talent's organisation or parent organisation is, contains or is
  contained in the enterprise's name or parent company (「任职于需求企业（或其母公司）」,
  also a subsidiary of the talent's employer); a declared relative or partner mentions the
  enterprise;
- a challenge's (揭榜挂帅) ``eligibility`` violated by a known value: ``min_title`` (职称
  rank), ``min_level`` (A > B > C), ``min_months_on_site`` (``months_per_year``; intent 全职
  counts as 12), ``nationalities``, ``regions`` (``current_city``).

Soft (factor):

- eligibility value of the talent unknown: 「资格待核实」 (:data:`UNVERIFIED_FACTOR`, 0.9);
  a rule that cannot be read (unknown 职称 name; only broad regions such as 国内): flag only (1.0);
- need-level ``min_title`` / ``min_level`` / ``min_months`` on any need, violated
  (:data:`SOFT_FACTOR`, 0.8) or unknown (:data:`NEED_UNVERIFIED_FACTOR`, 0.95).

Names are compared on folded text (see :func:`matching.tables.norm`): one name "mentions"
another when one of the other's variants occurs in it (the full name; without a company
suffix such as 有限公司 / 集团, if ≥ 2 characters remain; without a leading place such as
中国 / 河南省 / 平顶山 if ≥ 4 characters remain) and Latin/digit edges do not run on
(「企业1」 is not in 「企业10」).
Reason texts never quote a talent's private avoid or relatives entries.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from data.records import Enterprise, Need, Talent
from matching.tables import MatchingTables, norm, term_pattern

SOFT_FACTOR = 0.8
NEED_UNVERIFIED_FACTOR = 0.95
UNVERIFIED_FACTOR = 0.9
COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "集团有限公司", "集团股份有限公司", "有限公司",
                    "集团公司", "集团", "公司")
CHINA = frozenset({"中国", "中华人民共和国", "中国籍", "china", "cn", "prc", "中国大陆"})
BROAD_REGIONS = frozenset({"国内", "境内", "全国", "中国", "中国大陆"})
ANY_REGION = frozenset({"不限", "境内外", "国内外", "全球", "海内外"})
FULL_TIME = "全职"
NAME_CACHE_SIZE = 16_384
"""Names (and texts) whose folded variants and compiled patterns are kept (LRU, bounded)."""

PLACE_PREFIX_RE = re.compile(r"^(中国|[\u4e00-\u9fff]{2,3}(省|自治区|市)|[\u4e00-\u9fff]{1,3}[县区])")
MIN_STRIPPED = 4


@dataclass(frozen=True)
class Reason:
    """Why a pair is removed or flagged: a stable ``code`` and a Chinese ``text``."""

    code: str
    text: str
    factor: float = 1.0


@dataclass
class RuleResult:
    """The hard and soft reasons of one pair."""

    hard: list[Reason] = field(default_factory=list)
    soft: list[Reason] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        """True when no hard rule removes the pair."""
        return not self.hard

    @property
    def factor(self) -> float:
        """Product of the soft reasons' factors (1.0 without soft reasons)."""
        return math.prod(r.factor for r in self.soft)


@dataclass
class RuledPair:
    """A scored pair with its rule result; ``payload`` carries whatever the caller needs."""

    need_id: str
    talent_id: str
    score: float
    rules: RuleResult
    payload: Any = None
    base_score: float | None = None


@dataclass
class RuleOutcome:
    """Pairs kept (score penalised) and pairs dropped by a hard rule."""

    kept: list[RuledPair]
    dropped: list[RuledPair]


def check_pair(need: Need, talent: Talent, tables: MatchingTables,
               enterprise: Enterprise | None = None) -> RuleResult:
    """Every conflict and eligibility rule for one pair.

    Args:
        need: the need or challenge.
        talent: the talent.
        tables: the matching tables (title and level ranks, intents, cities).
        enterprise: the need's enterprise, when known.

    Returns:
        The hard and soft reasons.
    """
    result = RuleResult()
    places = tuple(tables.place_names())
    result.hard += declared_conflicts(need, talent, enterprise, places)
    result.hard += detected_conflicts(talent, enterprise, places)
    eligibility_rules(need, talent, tables, result)
    need_level_rules(need, talent, tables, result)
    return result


def penalise(score: float, result: RuleResult) -> float:
    """The score lowered by the soft reasons (divided, for a negative score).

    Args:
        score: the pair's score.
        result: its rule result.

    Returns:
        The penalised score (never higher than ``score``).
    """
    factor = result.factor
    return score * factor if score >= 0 or factor <= 0 else score / factor


def apply_rules(pairs: Iterable[RuledPair]) -> RuleOutcome:
    """Drop pairs with a hard reason and penalise the rest (``base_score`` keeps the input).

    Args:
        pairs: scored pairs with their rule results.

    Returns:
        Kept pairs (in input order, with penalised scores) and dropped pairs.
    """
    kept, dropped = [], []
    for p in pairs:
        if not p.rules.allowed:
            dropped.append(p)
        else:
            kept.append(replace(p, score=penalise(p.score, p.rules), base_score=p.score))
    return RuleOutcome(kept, dropped)


# -- names ----------------------------------------------------------------------------------


def core_name(name: str | None) -> str:
    """Folded name without one company suffix (kept when fewer than 2 characters remain)."""
    key = norm(name)
    for suffix in COMPANY_SUFFIXES:
        if key.endswith(suffix) and len(key) - len(suffix) >= 2:
            return key[: -len(suffix)]
    return key


def name_variants(name: str | None, places: Iterable[str] = ()) -> set[str]:
    """The folded forms a name may be written in: full, without company suffix, and without a
    leading place (中国, 河南省, 平顶山市, one of ``places`` …) when ≥ 4 characters remain.

    Args:
        name: an organisation name.
        places: extra place names to strip (e.g. the programme cities).

    Returns:
        Folded variants of at least 2 characters.
    """
    return set(_variants(name, tuple(places)))


@lru_cache(maxsize=NAME_CACHE_SIZE)
def _variants(name: str | None, places: tuple[str, ...]) -> frozenset[str]:
    """:func:`name_variants`, cached: the rules check the same few names for every pair."""
    full, core = norm(name), core_name(name)
    out = {v for v in (full, core) if len(v) >= 2}
    prefixes = _prefixes(places)
    for v in (full, core):
        m = PLACE_PREFIX_RE.match(v)
        cut = m.group(0) if m else next((p for p in prefixes if v.startswith(p)), "")
        if cut and len(v) - len(cut) >= MIN_STRIPPED:
            out.add(v[len(cut):])
    return frozenset(out)


@lru_cache(maxsize=8)
def _prefixes(places: tuple[str, ...]) -> list[str]:
    """The folded place prefixes, longest first (the same place list for every pair)."""
    return sorted({norm(p) for p in places if norm(p)}, key=len, reverse=True)


@lru_cache(maxsize=NAME_CACHE_SIZE)
def _mention_pattern(name: str | None, places: tuple[str, ...]) -> re.Pattern[str] | None:
    """The compiled alternation of a name's variants (None when it has none)."""
    variants = _variants(name, places)
    return re.compile(term_pattern(sorted(variants))) if variants else None


def mentions(text: str | None, name: str | None, places: Iterable[str] = ()) -> bool:
    """True when ``name`` (any of its :func:`name_variants`) occurs in ``text``.

    Args:
        text: the text searched.
        name: the name looked for.
        places: extra place prefixes (see :func:`name_variants`).

    Returns:
        Whether it occurs.
    """
    if not text or not name:
        return False
    hay, key = norm(text), places if isinstance(places, tuple) else tuple(places)
    # the pattern is an alternation of the variants: none in the text, no match (no compile)
    if not hay or not any(v in hay for v in _variants(name, key)):
        return False
    pattern = _mention_pattern(name, key)
    return bool(pattern is not None and pattern.search(hay))


def same_org(a: str | None, b: str | None, places: Iterable[str] = ()) -> bool:
    """True when either organisation name mentions the other (see :func:`mentions`)."""
    return bool(a and b) and (mentions(a, b, places) or mentions(b, a, places))


# -- conflicts ------------------------------------------------------------------------------


def declared_conflicts(need: Need, talent: Talent, enterprise: Enterprise | None,
                       places: Iterable[str] = ()) -> list[Reason]:
    """Conflicts declared in the talent's or the need's ``avoid`` list.

    Args:
        need: the need.
        talent: the talent.
        enterprise: the need's enterprise, when known.
        places: place prefixes that names may omit (see :func:`name_variants`).

    Returns:
        Hard reasons.
    """
    out = []
    ent_ids = {norm(x) for x in (need.id, need.enterprise_id, enterprise and enterprise.id) if x}
    ent_names = [enterprise.name, enterprise.parent_company] if enterprise else []
    for entry in talent.avoid:
        if norm(entry) in ent_ids or any(same_org(entry, n, places) for n in ent_names):
            out.append(Reason("talent_avoid", "人才声明回避该企业或需求"))
            break
    person = {norm(talent.id), norm(talent.name)}
    orgs = [talent.organisation, talent.parent_organisation]
    for entry in need.avoid:
        if norm(entry) in person or any(same_org(entry, o, places) for o in orgs):
            out.append(Reason("need_avoid", "需求方声明回避该人才或其所在单位"))
            break
    return out


def detected_conflicts(talent: Talent, enterprise: Enterprise | None,
                       places: Iterable[str] = ()) -> list[Reason]:
    """Conflicts detected from the talent's employer and declared relatives.

    Args:
        talent: the talent.
        enterprise: the need's enterprise (None: nothing to detect).
        places: place prefixes that names may omit (see :func:`name_variants`).

    Returns:
        Hard reasons.
    """
    if enterprise is None:
        return []
    names = [n for n in (enterprise.name, enterprise.parent_company) if n]
    out = []
    for org in (talent.organisation, talent.parent_organisation):
        if any(same_org(org, n, places) for n in names):
            out.append(Reason("employed_by_enterprise",
                              f"任职于需求企业（或其母公司、同一集团）：{org}"))
            break
    if any(mentions(r, n, places) for r in talent.relatives for n in names):
        out.append(Reason("relative_at_enterprise", "申报的亲属或合伙人在需求企业任职或持股"))
    return out


# -- eligibility ----------------------------------------------------------------------------


def _verdict(result: RuleResult, ok: bool | None, code: str, fail: str, unknown: str,
             hard: bool) -> None:
    if ok is None:
        factor = UNVERIFIED_FACTOR if hard else NEED_UNVERIFIED_FACTOR
        prefix = "资格待核实" if hard else "待核实"
        result.soft.append(Reason(f"{code}_unverified", f"{prefix}：{unknown}", factor))
    elif not ok:
        if hard:
            result.hard.append(Reason(code, fail))
        else:
            result.soft.append(Reason(code, fail, SOFT_FACTOR))


def _rank_ok(have: int | None, need: int | None) -> bool | None:
    return None if have is None or need is None else have >= need


def _months_ok(talent: Talent, months: int, tables: MatchingTables) -> bool | None:
    if FULL_TIME in {tables.intent(i) for i in talent.intent}:
        return True
    return None if talent.months_per_year is None else talent.months_per_year >= months


def _seniority_checks(need_title: str | None, need_level: str | None, months: int | None,
                      talent: Talent, tables: MatchingTables, city: str
                      ) -> list[tuple[str, bool | None, str, str]]:
    checks = []
    need_title = tables.title_name(tables.title_rank(need_title)) or need_title
    need_level = tables.level_name(need_level) or need_level
    if need_title:
        checks.append(("title", _rank_ok(tables.title_rank(talent.title),
                                         tables.title_rank(need_title)),
                       f"职称不满足要求：需{need_title}及以上，现为{talent.title or '未知'}",
                       f"职称未知（要求{need_title}及以上）"))
    if need_level:
        checks.append(("level", _rank_ok(tables.level_rank(talent.level),
                                         tables.level_rank(need_level)),
                       f"人才层次不满足要求：需{need_level}类及以上，现为{tables.level_name(talent.level)}类",
                       f"人才层次未知（要求{need_level}类及以上）"))
    if months:
        checks.append(("months", _months_ok(talent, months, tables),
                       f"每年在{city}时间不足：需{months}个月，现为{talent.months_per_year}个月",
                       f"每年可在{city}时间未知（要求{months}个月）"))
    return checks


def _unreadable_title(result: RuleResult, title: str | None, tables: MatchingTables) -> bool:
    if title and tables.title_rank(title) is None:
        result.soft.append(Reason("rule_unreadable", f"职称要求「{title}」无法识别，请人工核对"))
        return True
    return False


def eligibility_rules(need: Need, talent: Talent, tables: MatchingTables,
                      result: RuleResult) -> None:
    """A challenge's eligibility: hard when violated, 「资格待核实」 when the value is unknown.

    Args:
        need: the need (only a challenge has ``eligibility``).
        talent: the talent.
        tables: the matching tables.
        result: where reasons are added.
    """
    elig = getattr(need, "eligibility", None)
    if elig is None:
        return
    title = None if _unreadable_title(result, elig.min_title, tables) else elig.min_title
    city = tables.abbrev(need.city)
    for code, ok, fail, unknown in _seniority_checks(title, elig.min_level,
                                                     elig.min_months_on_site, talent, tables, city):
        _verdict(result, ok, f"eligibility_{code}", fail, unknown, hard=True)
    if elig.nationalities:
        _verdict(result, nationality_ok(talent.nationality, elig.nationalities),
                 "eligibility_nationality",
                 f"国籍不符合要求：限{'、'.join(elig.nationalities)}", "国籍未知", hard=True)
    if elig.regions:
        ok = region_ok(talent.current_city, elig.regions)
        if ok is None and talent.current_city:
            result.soft.append(Reason("rule_unreadable",
                                      f"地域要求「{'、'.join(elig.regions)}」需人工核对"))
        else:
            _verdict(result, ok, "eligibility_region",
                     f"所在地不符合要求：限{'、'.join(elig.regions)}，现在{talent.current_city}",
                     "所在城市未知", hard=True)


def need_level_rules(need: Need, talent: Talent, tables: MatchingTables,
                     result: RuleResult) -> None:
    """A need's own ``min_title`` / ``min_level`` / ``min_months``: soft reasons only.

    Args:
        need: the need.
        talent: the talent.
        tables: the matching tables.
        result: where reasons are added.
    """
    title = None if _unreadable_title(result, need.min_title, tables) else need.min_title
    city = tables.abbrev(need.city)
    for code, ok, fail, unknown in _seniority_checks(title, need.min_level, need.min_months,
                                                     talent, tables, city):
        _verdict(result, ok, f"need_min_{code}", fail, unknown, hard=False)


def nationality_ok(nationality: str | None, allowed: list[str]) -> bool | None:
    """Whether a nationality is among the allowed ones (None when unknown).

    Args:
        nationality: the talent's nationality.
        allowed: the allowed nationalities.

    Returns:
        True / False, or None when the nationality is unknown.
    """
    if not nationality:
        return None
    key = norm(nationality)
    keys = {key} | (set(CHINA) if key in CHINA else set())
    return any(norm(a) in keys for a in allowed)


def region_ok(city: str | None, regions: list[str]) -> bool | None:
    """Whether a city lies in the allowed regions (None when it cannot be decided).

    A region matches when either name mentions the other without a 市/省 suffix
    (「北京」 ~ 「北京市」); 不限 / 国内外 allow anything; broad regions such as 国内 cannot be
    decided from a city name and give None (to be checked by a person).

    Args:
        city: the talent's current city.
        regions: the allowed regions.

    Returns:
        True / False, or None.
    """
    keys = {norm(r) for r in regions}
    if keys & ANY_REGION:
        return True
    if not city:
        return None
    bare = re.sub(r"(市|省|地区|自治区)$", "", norm(city))
    for r in keys - BROAD_REGIONS:
        region = re.sub(r"(市|省|地区|自治区)$", "", r)
        if region and (region in bare or bare in region):
            return True
    return None if keys & BROAD_REGIONS else False
