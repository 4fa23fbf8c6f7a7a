"""A suggestion's review page, read from what its pairing run stored (issue #13 §3).

Nothing here retrieves or ranks again: the bars are the run's contributions (with the raw
feature values beside them), the flags are the run's soft-rule flags, and the alternates are
the run's alternates for the need. When the run stored nothing usable the page says so in
Chinese instead of showing an empty section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from api.services import cities
from api.services.review import FEATURE_LABELS, audit, queue, suggestion_for
from api.services.review_export import beijing
from api.services.types import JSONObject, User
from api.typed import many, one
from data.records import Enterprise, Need, Suggestion, Talent

if TYPE_CHECKING:
    from api.application import Application

RAW_PART = re.compile(r"^(语义相似度|关键词重合度)\s*-?\d")
"""Parts of a stored sentence that are only a raw similarity number (shown in the bars)."""
SUM_TOLERANCE = 5e-4


def sentence(explanation: str) -> str:
    """The stored explanation without its raw similarity numbers (those go to the bars)."""
    parts = [p for p in explanation.split("；") if p.strip() and not RAW_PART.match(p.strip())]
    return "；".join(parts)


@dataclass
class ReviewDetail:
    """What the review page shows of a suggestion."""

    s: Suggestion
    need: Need | None
    talent: Talent | None
    enterprise_name: str = ""
    bars: list[JSONObject] = field(default_factory=list)
    bars_total: float = 0.0
    flags: list[str] = field(default_factory=list)
    alternates: list[JSONObject] = field(default_factory=list)
    explanation: str = ""
    problems: list[str] = field(default_factory=list)
    decisions: list[JSONObject] = field(default_factory=list)
    tie: str = ""
    run: JSONObject = field(default_factory=dict)
    next_id: str | None = None
    prev_id: str | None = None
    position: int = 0
    total: int = 0

    def context(self) -> JSONObject:
        """The fields by name (a template context)."""
        return dict(self.__dict__)


def bars(s: Suggestion) -> tuple[list[JSONObject], float]:
    """The contribution bars of a stored suggestion and their total (== its score).

    Each bar has the feature's label, its contribution and the raw feature value the run
    saw. When penalties or calibration moved the score away from the sum of the
    contributions, one more bar holds the difference, so the bars always add up to the
    score shown.
    """
    values = dict(s.contributions)
    if not values:
        return [], 0.0
    out: list[JSONObject] = []
    for name, value in sorted(values.items(), key=lambda kv: -abs(kv[1])):
        if abs(value) < 1e-9:
            continue
        raw = s.features.get(name)
        out.append({"name": name, "label": FEATURE_LABELS.get(name, name),
                    "value": round(value, 4), "raw": None if raw is None else round(raw, 3)})
    rest = float(s.score) - sum(values.values())
    if abs(rest) > SUM_TOLERANCE:
        label = "软规则扣减" if s.flags and rest < 0 and s.fused is not None and \
            abs(s.fused - sum(values.values())) <= SUM_TOLERANCE else "校准 / 重排调整"
        out.append({"name": "adjust", "label": label, "value": round(rest, 4), "raw": None})
    top = max([abs(float(b["value"] or 0)) for b in out] + [1e-9])  # type: ignore[arg-type]
    for b in out:
        value = float(b["value"] or 0)  # type: ignore[arg-type]
        b["width"] = round(100 * abs(value) / top, 1)
        b["negative"] = value < 0
    return out, round(float(s.score), 4)


def tie_text(talent: Talent) -> str:
    """The talent's 籍贯 and ties in words (「宝丰县籍；成长经历、情感联系」)."""
    parts = [f"{talent.hometown_county}籍"] if talent.hometown_county else []
    ties = [t for t in talent.ties if t != "籍贯"]  # 「籍贯」 alone is said by the county
    if ties:
        parts.append("、".join(ties))
    return "；".join(parts)


def _alternates(app: Application, s: Suggestion, run: JSONObject,
                user: User | None = None) -> list[JSONObject]:
    """The run's alternates for the suggestion's need (a city-scoped ``user``: the talents
    of its city only)."""
    result = run.get("result")
    alternates = result.get("alternates") if isinstance(result, dict) else None
    found = alternates.get(s.need_id) if isinstance(alternates, dict) else None
    ids = [str(t) for t in found] if isinstance(found, list) else []
    if not ids:
        return []
    talents = many(Talent, app.store.get_many("talents", ids))
    if user is not None and cities.scope(user) is not None:
        ids = [t for t in ids if cities.sees(user, talents.get(t))]
    pairs = {x.talent_id: x.id for x in app.store.suggestions(need_id=s.need_id)}
    out: list[JSONObject] = []
    for tid in ids:
        sid = pairs.get(tid)
        out.append({"talent_id": tid, "name": getattr(talents.get(tid), "name", tid),
                    "href": f"/review/{sid}" if sid else f"/api/v1/talents/{tid}",
                    "suggestion_id": sid})
    return out


def page_detail(app: Application, user: User, suggestion_id: str,
                filters: dict[str, str] | None = None) -> ReviewDetail:
    """A suggestion as the run stored it, with its neighbours in the filtered queue.

    Args:
        app: the application.
        user: the caller (a reviewer: its own work group only).
        suggestion_id: the suggestion.
        filters: the queue's filters the caller came from (group, status, chain, county, q,
            sort); they give 上一条 / 下一条.

    Raises:
        NotFound: no such suggestion (404). Forbidden: another work group's (403).
    """
    s = suggestion_for(app, user, suggestion_id)
    store = app.store
    need = one(Need, store.get("needs", s.need_id) or store.get("challenges", s.need_id))
    talent = one(Talent, store.get("talents", s.talent_id))
    shown = ReviewDetail(s=s, need=need, talent=talent)
    if need is None:
        shown.problems.append(f"需求「{s.need_id}」已删除，只能显示运行时保存的得分和理由")
    elif need.enterprise_id:
        owner = one(Enterprise, store.get("enterprises", need.enterprise_id))
        shown.enterprise_name = getattr(owner, "name", "")
    if talent is None:
        shown.problems.append(f"人才「{s.talent_id}」已删除，只能显示运行时保存的得分和理由")
    else:
        shown.tie = tie_text(talent)
    shown.bars, shown.bars_total = bars(s)
    if not shown.bars:
        shown.problems.append("此推荐的运行未保存各项特征贡献（生成于升级之前）：请管理员重新发起结对")
    shown.flags = list(s.flags)
    shown.explanation = sentence(s.explanation)
    if not shown.explanation:
        shown.problems.append("运行未给出可陈述的推荐理由：请参考各项贡献")
    run = store.get_run(s.run_id) if s.run_id else None
    if run is None:
        shown.problems.append(f"找不到结对运行「{s.run_id or '—'}」：无法显示备选人才")
    else:
        shown.run = {k: v for k, v in run.items() if k in ("id", "solver", "result")}
        shown.alternates = _alternates(app, s, shown.run, user)
    shown.decisions = [{**d, "at_bj": beijing(str(d["at"]))}
                       for d in audit(app, user, suggestion_id=suggestion_id)]
    _neighbours(app, user, shown, filters or {})
    return shown


def _neighbours(app: Application, user: User, shown: ReviewDetail,
                filters: dict[str, str]) -> None:
    """上一条 / 下一条 in the queue the caller came from (its filters and sort)."""
    try:
        ids = [str(r["id"]) for r in queue(
            app, user, group=filters.get("group") or None,
            status=filters.get("status") or None, chain=filters.get("chain") or None,
            county=filters.get("county") or None, q=filters.get("q") or None,
            sort=filters.get("sort") or None)]
    except Exception:  # a stale or foreign filter: no neighbours, the page still shows
        return
    shown.total = len(ids)
    if shown.s.id in ids:
        i = ids.index(shown.s.id)
        shown.position = i + 1
        shown.prev_id = ids[i - 1] if i > 0 else None
        shown.next_id = ids[i + 1] if i + 1 < len(ids) else None
    elif ids:
        shown.next_id = ids[0]


def next_after(app: Application, user: User, suggestion_id: str,
               filters: dict[str, str]) -> str | None:
    """The suggestion after ``suggestion_id`` in the filtered queue (before a decision moves
    it out), or the first one when it is not there."""
    try:
        ids = [str(r["id"]) for r in queue(
            app, user, group=filters.get("group") or None,
            status=filters.get("status") or None, chain=filters.get("chain") or None,
            county=filters.get("county") or None, q=filters.get("q") or None,
            sort=filters.get("sort") or None)]
    except Exception:
        return None
    if suggestion_id in ids:
        i = ids.index(suggestion_id)
        return ids[i + 1] if i + 1 < len(ids) else None
    return ids[0] if ids else None
