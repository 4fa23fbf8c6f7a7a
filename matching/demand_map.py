"""The 高精尖缺 demand map: demand × strong supply × scarcity per cell (no I/O).

Inputs are plain: the open needs (records), per need its ranked candidates (talent id,
score, matched and required terms), the talents' attributes, and the expertise cluster of
each need. Output is a JSON-ready :class:`DemandMap`.

Need weight (demand side)::

    w(n) = kind_w(n) · urgency(n) · budget_f(n)
    kind_w   = tech 1.0, talent 1.0, project 0.8, funding 0.6; ×1.5 for a 揭榜挂帅 challenge
    urgency  = 1 + clip(1 − days_to_deadline / 180, 0, 1)  (no deadline: 1; overdue: 2)
    budget_f = 1 + log10(1 + budget / 100)                  (budget in 万元; none: 1)

Strong supply of a need: the talents whose ranked score is ≥ the threshold. Scarcity of a
need is ``w(n) / (1 + s(n))`` with ``s(n)`` its number of strong talents: a need no talent
meets counts with its full weight, one met by one talent with half, and so on. A cell's
scarcity index is the sum over its needs (so cells add up to the city total), and its
scarcity ratio is that index divided by the cell's demand weight (0 = amply met, 1 = unmet).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

DIMENSIONS = ("chain", "county", "cluster", "kind")
"""What a cell can be keyed by."""
DEFAULT_THRESHOLD = 0.55
"""Fused score from which a candidate counts as strong supply (about the 90th percentile of
the sample's top-20 candidate scores)."""
DEFAULT_QUANTILE = 0.9
"""Quantile of all candidate scores used as threshold when the scale is not the fused one."""
KIND_WEIGHTS = {"tech": 1.0, "talent": 1.0, "project": 0.8, "funding": 0.6}
CHALLENGE_FACTOR = 1.5
URGENCY_DAYS = 180
HIGH_LEVELS = ("A", "B")
HIGH_END_MAX_SUPPLY = 3
"""A 高精尖 cell has at most this many strong talents (see :func:`high_end_cells`)."""
NEAREST = 3
UNKNOWN = "未填"


@dataclass(frozen=True)
class Candidate:
    """One ranked candidate of a need."""

    talent_id: str
    score: float
    matched_terms: tuple[str, ...] = ()
    required_terms: tuple[str, ...] = ()

    @property
    def missing_terms(self) -> list[str]:
        """The need's required terms this candidate does not cover."""
        have = set(self.matched_terms)
        return [t for t in self.required_terms if t not in have]


@dataclass(frozen=True)
class TalentInfo:
    """The talent attributes the supply split needs."""

    id: str
    category: str
    level: str | None
    hometown_county: str | None
    current_city: str | None
    intents: tuple[str, ...] = ()


@dataclass
class Cell:
    """One cell of the map (a combination of dimension values)."""

    key: dict[str, str]
    needs: int = 0
    weight: float = 0.0
    covered: int = 0
    strong_talents: int = 0
    scarcity: float = 0.0
    scarcity_ratio: float = 0.0
    supply: dict[str, dict[str, int]] = field(default_factory=dict)
    need_ids: list[str] = field(default_factory=list)
    talent_ids: list[str] = field(default_factory=list)
    change: float | None = None

    @property
    def label(self) -> str:
        """The cell's key values joined with ' / '."""
        return " / ".join(self.key.values())


@dataclass
class DemandMap:
    """The map: cells, totals, the 紧缺 and 高精尖 lists, and the parameters used."""

    by: list[str]
    threshold: float
    cells: list[Cell]
    totals: dict[str, Any]
    scarce: list[dict[str, Any]]
    high_end: list[dict[str, Any]]
    clusters: dict[str, Any] = field(default_factory=dict)
    previous: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy."""
        return asdict(self)


def need_weight(need: Any, today: dt.date) -> float:
    """Demand weight of a need from kind, urgency (deadline) and budget (see module doc).

    Args:
        need: a :class:`data.records.Need` (or Challenge).
        today: the reference day for urgency.

    Returns:
        The weight (> 0).
    """
    kind = str(getattr(need.kind, "value", need.kind))
    w = KIND_WEIGHTS.get(kind, 1.0)
    if hasattr(need, "list_no"):
        w *= CHALLENGE_FACTOR
    if need.deadline is not None:
        days = (need.deadline - today).days
        w *= 1.0 + min(max(1.0 - days / URGENCY_DAYS, 0.0), 1.0)
    budget = need.budget if need.budget is not None else getattr(need, "funding", None)
    if budget:
        w *= 1.0 + math.log10(1.0 + float(budget) / 100.0)
    return w


def quantile_threshold(candidates: Mapping[str, Sequence[Candidate]], q: float) -> float:
    """The ``q`` quantile of every candidate score (0 when there are none)."""
    scores = sorted(c.score for cs in candidates.values() for c in cs)
    if not scores:
        return 0.0
    return scores[min(int(q * len(scores)), len(scores) - 1)]


def strong(cands: Sequence[Candidate], threshold: float) -> list[Candidate]:
    """The candidates at or above ``threshold``."""
    return [c for c in cands if c.score >= threshold]


def _key(need: Any, by: Sequence[str], clusters: Mapping[str, str]) -> tuple[str, ...]:
    values = {"chain": need.chain, "county": need.county, "cluster": clusters.get(need.id),
              "kind": str(getattr(need.kind, "value", need.kind))}
    return tuple(str(values[d] or UNKNOWN) for d in by)


def _tie(t: TalentInfo, counties: set[str]) -> str:
    return "归根(籍贯在本市)" if t.hometown_county in counties else "无籍贯联系"


def _out_of_city(t: TalentInfo, city: str, counties: set[str]) -> bool:
    cur = t.current_city or ""
    return not (cur.startswith(city[:2]) or cur in counties)


def _intent(t: TalentInfo) -> str:
    if "全职" in t.intents:
        return "全职"
    if "柔性" in t.intents:
        return "柔性"
    return "其他" if t.intents else UNKNOWN


def supply_split(talents: Iterable[TalentInfo], counties: set[str]) -> dict[str, dict[str, int]]:
    """Counts of talents by category, level, 归根 tie and intent.

    Args:
        talents: the strong talents of a cell.
        counties: the programme city's counties (a hometown there is a 归根 tie).

    Returns:
        ``{"category": {...}, "level": {...}, "tie": {...}, "intent": {...}}``.
    """
    split: dict[str, Counter[str]] = {k: Counter() for k in ("category", "level", "tie", "intent")}
    for t in talents:
        split["category"][t.category or UNKNOWN] += 1
        split["level"][t.level or "无"] += 1
        split["tie"][_tie(t, counties)] += 1
        split["intent"][_intent(t)] += 1
    return {k: dict(v.most_common()) for k, v in split.items()}


def scarce_needs(needs: Sequence[Any], candidates: Mapping[str, Sequence[Candidate]],
                 threshold: float, weights: Mapping[str, float]) -> list[dict[str, Any]]:
    """The 紧缺 list: needs with no candidate at or above ``threshold``, heaviest first.

    Args:
        needs: the open needs.
        candidates: ranked candidates per need id.
        threshold: the strong-supply score.
        weights: demand weight per need id.

    Returns:
        One dict per need: id, title, chain, county, weight, best score and the nearest
        candidates with the required terms each lacks.
    """
    out = []
    for n in needs:
        cands = sorted(candidates.get(n.id, []), key=lambda c: -c.score)
        if strong(cands, threshold):
            continue
        out.append({
            "need_id": n.id, "title": n.title, "chain": n.chain or UNKNOWN,
            "county": n.county or UNKNOWN, "weight": round(weights[n.id], 4),
            "best_score": round(cands[0].score, 4) if cands else None,
            "nearest": [{"talent_id": c.talent_id, "score": round(c.score, 4),
                         "missing_terms": c.missing_terms} for c in cands[:NEAREST]],
        })
    return sorted(out, key=lambda d: -d["weight"])


def high_end_cells(cells: Sequence[Cell], talents: Mapping[str, TalentInfo], city: str,
                   counties: set[str],
                   max_supply: int = HIGH_END_MAX_SUPPLY) -> list[dict[str, Any]]:
    """The 高精尖 list: cells whose demand only a few senior talents can meet.

    **Definition.** A cell is 高精尖 when (1) it has strong supply, but thin: between 1 and
    ``max_supply`` talents score at or above the threshold for its needs, and (2) every one
    of them is an A- or B-level talent (:data:`HIGH_LEVELS`). Living outside the city no
    longer counts towards (2): nearly every 归根 talent lives outside the city — that is
    what the programme is for — so the old rule "A/B *or* out of city" selected every cell.
    The out-of-city count is still reported. These cells are the targets for flexible
    introduction (柔性引进): their demand is real, and the few who can meet it are senior.

    Returns:
        One dict per cell (key, label, needs, scarcity, strong_talents, high_level,
        out_of_city, talent_ids), highest scarcity first.
    """
    out = []
    for cell in cells:
        ts = [talents[t] for t in cell.talent_ids if t in talents]
        if not 1 <= len(ts) <= max_supply:
            continue
        if all(t.level in HIGH_LEVELS for t in ts):
            out.append({"key": cell.key, "label": cell.label, "needs": cell.needs,
                        "scarcity": cell.scarcity, "strong_talents": len(ts),
                        "high_level": sum(t.level in HIGH_LEVELS for t in ts),
                        "out_of_city": sum(_out_of_city(t, city, counties) for t in ts),
                        "talent_ids": [t.id for t in ts]})
    return sorted(out, key=lambda d: -d["scarcity"])


def _cell(key: dict[str, str], needs: list[Any], candidates: Mapping[str, Sequence[Candidate]],
          threshold: float, weights: Mapping[str, float], talents: Mapping[str, TalentInfo],
          counties: set[str]) -> Cell:
    cell = Cell(key=key, needs=len(needs), need_ids=[n.id for n in needs])
    ids: dict[str, None] = {}
    for n in needs:
        s = strong(candidates.get(n.id, []), threshold)
        cell.weight += weights[n.id]
        cell.scarcity += weights[n.id] / (1 + len(s))
        cell.covered += bool(s)
        ids.update(dict.fromkeys(c.talent_id for c in s))
    cell.talent_ids = list(ids)
    cell.strong_talents = len(ids)
    cell.supply = supply_split([talents[t] for t in ids if t in talents], counties)
    cell.scarcity_ratio = round(cell.scarcity / cell.weight, 4) if cell.weight else 0.0
    cell.weight, cell.scarcity = round(cell.weight, 4), round(cell.scarcity, 4)
    return cell


def build_demand_map(needs: Sequence[Any], candidates: Mapping[str, Sequence[Candidate]],
                     talents: Mapping[str, TalentInfo], *, by: Sequence[str] = ("chain", "county"),
                     threshold: float = DEFAULT_THRESHOLD, clusters: Mapping[str, str] | None = None,
                     city: str = "平顶山", counties: Iterable[str] = (),
                     today: dt.date | None = None) -> DemandMap:
    """Aggregate demand, strong supply and scarcity per cell.

    Args:
        needs: the open needs and challenges (records).
        candidates: ranked candidates per need id.
        talents: attributes of every candidate talent by id.
        by: the cell dimensions, from :data:`DIMENSIONS`.
        threshold: the strong-supply score.
        clusters: expertise cluster label per need id (for ``by`` containing ``cluster``).
        city: the programme city.
        counties: its counties (归根 tie, out-of-city test).
        today: reference day for urgency (default: today).

    Returns:
        The :class:`DemandMap`, cells sorted by scarcity (highest first).
    """
    bad = [d for d in by if d not in DIMENSIONS]
    if bad or not by:
        raise ValueError(f"--by 只能取 {', '.join(DIMENSIONS)}，收到: {', '.join(bad) or '空'}")
    today = today or dt.date.today()
    clusters = clusters or {}
    county_set = set(counties)
    weights = {n.id: need_weight(n, today) for n in needs}
    groups: dict[tuple[str, ...], list[Any]] = defaultdict(list)
    for n in needs:
        groups[_key(n, by, clusters)].append(n)
    cells = [_cell(dict(zip(by, k, strict=True)), ns, candidates, threshold, weights, talents,
                   county_set) for k, ns in groups.items()]
    cells.sort(key=lambda c: (-c.scarcity, c.label))
    scarce = scarce_needs(needs, candidates, threshold, weights)
    strong_ids = {t for c in cells for t in c.talent_ids}
    totals = {"needs": len(needs), "weight": round(sum(weights.values()), 4),
              "scarcity": round(sum(c.scarcity for c in cells), 4),
              "covered": sum(c.covered for c in cells), "scarce": len(scarce),
              "strong_talents": len(strong_ids), "cells": len(cells)}
    return DemandMap(by=list(by), threshold=round(float(threshold), 4), cells=cells,
                     totals=totals, scarce=scarce,
                     high_end=high_end_cells(cells, talents, city, county_set))


def cell_id(key: Mapping[str, str]) -> str:
    """A stable text id of a cell key (``chain=…|county=…``)."""
    return "|".join(f"{k}={v}" for k, v in key.items())


def snapshot(dm: DemandMap) -> dict[str, Any]:
    """The aggregate part of a map kept as a snapshot (no talent or need identities)."""
    return {"by": dm.by, "threshold": dm.threshold, "totals": dm.totals,
            "cells": {cell_id(c.key): {"needs": c.needs, "weight": c.weight,
                                       "scarcity": c.scarcity, "strong": c.strong_talents}
                      for c in dm.cells}}


def apply_previous(dm: DemandMap, previous: Mapping[str, Any] | None,
                   previous_id: str | None = None) -> DemandMap:
    """Set each cell's change in scarcity against a previous snapshot (same ``by`` only).

    Args:
        dm: the current map (changed in place).
        previous: a :func:`snapshot` dict, or None.
        previous_id: the previous run's id (shown).

    Returns:
        ``dm``.
    """
    if not previous or list(previous.get("by", [])) != dm.by:
        return dm
    old = previous.get("cells", {})
    for c in dm.cells:
        before = old.get(cell_id(c.key), {}).get("scarcity", 0.0)
        c.change = round(c.scarcity - float(before), 4)
    dm.previous = previous_id
    dm.totals["scarcity_change"] = round(
        dm.totals["scarcity"] - float(previous.get("totals", {}).get("scarcity", 0.0)), 4)
    return dm
