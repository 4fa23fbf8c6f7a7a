"""The plain shapes the workflows answer with: match, opportunity and suggestion rows, and
the event-shortlist parameters (kept apart from :mod:`api.workflows`, which does the work)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, TypeVar

from data.records import Need, Suggestion, WorkGroup


def shortlist_params(event: Any, k: int, m: int, meeting_cap: int,
                      strong: float) -> dict[str, Any]:
    """The parameters of a shortlist as its exports list them (labels of the form)."""
    return {"活动": event.name, "日期": event.date or "", "地点": event.venue or "",
            "名单容量": event.capacity, "每家企业强候选数": m, "每人对接场次上限": meeting_cap,
            "强候选阈值": round(strong, 4), "每个需求候选数": k}


E = TypeVar("E", bound=tuple[Any, ...])


def city_edges(store: Any, edges: list[E], city: str | None) -> list[E]:
    """The (need, talent, …) edges whose talent belongs to ``city`` (None: all of them):
    a city-scoped pairing run or shortlist pairs its own city's talents only."""
    if city is None:
        return edges
    talents = store.get_many("talents", list({e[1] for e in edges}))
    return [e for e in edges if getattr(talents.get(e[1]), "city", None) == city]


def in_event(need: Need, event: Any) -> bool:
    if event.need_ids:
        return need.id in event.need_ids
    if event.enterprise_ids:
        return need.enterprise_id in event.enterprise_ids
    if event.theme_chains:
        return need.chain in event.theme_chains
    return True


def plain(value: Any) -> Any:
    """JSON-ready copy of a mapping or sequence of simple values."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return plain(asdict(value))
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def match_dict(m: Any, talent: Any) -> dict[str, Any]:
    return {"rank": m.rank, "talent_id": m.talent_id,
            "name": getattr(talent, "name", ""),
            "organisation": getattr(talent, "organisation", None),
            "title": getattr(talent, "title", None),
            "score": round(float(m.score), 4), "explanation": m.explanation,
            "probability": None if m.probability is None else round(float(m.probability), 4),
            "fused": round(float(m.fused), 4),
            "contributions": {k: round(float(v), 4) for k, v in m.contributions.items()},
            "flags": [r.text for r in m.flags]}


def opportunity_dict(o: Any) -> dict[str, Any]:
    return {"rank": o.rank, "kind": o.kind, "id": o.id, "title": o.title,
            "score": round(float(o.score), 4), "explanation": o.explanation,
            "flags": [r.text for r in o.flags]}


def suggestion(run_id: str, need: Need, talent_id: str, score: float, match: Any,
                i: int) -> Suggestion:
    return Suggestion(
        id=f"{run_id}-{i:05d}", need_id=need.id, talent_id=talent_id, score=float(score),
        features={k: float(v) for k, v in (getattr(match, "features", {}) or {}).items()},
        explanation=getattr(match, "explanation", "") or "",
        rank=int(getattr(match, "rank", 0) or 0), run_id=run_id,
        work_group=WorkGroup(need.work_group),
        contributions={k: round(float(v), 6)
                       for k, v in (getattr(match, "contributions", {}) or {}).items()},
        flags=[r.text for r in (getattr(match, "flags", []) or [])],
        fused=None if match is None else round(float(getattr(match, "fused", 0.0)), 6))
