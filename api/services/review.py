"""Review: the queue, a suggestion's detail, decisions (optimistic concurrency), the audit
trail, and the audit export.

Reviewers see and decide their own work group's suggestions only; admins see every group.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from api.services.errors import Forbidden, Invalid, NotFound
from api.services.types import JSONObject, User
from api.typed import many, one
from data.records import Decision, Need, Suggestion, Talent
from data.store.errors import VersionConflict
from data.taxonomy import work_group_labels

if TYPE_CHECKING:
    from api.application import Application
    from api.service.state import ServiceState

__all__ = ["GROUP_LABELS", "STATUS_LABELS", "ReviewDetail", "VersionConflict"]

ACTION_OF_STATUS = {"approved": "approve", "rejected": "reject", "deferred": "defer",
                    "approve": "approve", "reject": "reject", "defer": "defer"}
GROUP_LABELS = work_group_labels()
STATUS_LABELS = {"proposed": "待审核", "approved": "已同意", "rejected": "已驳回",
                 "deferred": "暂缓"}
FEATURE_LABELS = {"dense": "语义相似", "lexical": "关键词", "coverage": "专长覆盖",
                  "same_chain": "同产业链", "kind_fit": "需求类型契合", "tie": "乡情联系",
                  "availability": "可在平时间", "seniority": "资历", "freshness": "信息新鲜度",
                  "retrieval": "检索得分", "dense_profile": "画像相似", "dense_items": "成果相似"}
DETAIL_K = 50
"""Matches of the need looked at for a suggestion's detail (its alternates come from them)."""


def group_for(user: User, group: str | None) -> str | None:
    """The work group a caller may look at (reviewers: their own only).

    Raises:
        Invalid: an unknown group (422).
        Forbidden: a reviewer asking for another group (403).
    """
    if group is not None and group not in GROUP_LABELS:
        raise Invalid(f"未知工作小组 group「{group}」；可选：{'、'.join(GROUP_LABELS)}")
    if user.role == "reviewer":
        if group is not None and group != user.work_group:
            raise Forbidden(f"审核员只能查看本小组（{GROUP_LABELS.get(user.work_group or '', '')}）"
                            "的推荐")
        return user.work_group
    return group


def _needs(app: Application, need_ids: list[str]) -> dict[str, Need]:
    found: dict[str, Need] = {}
    for entity in ("needs", "challenges"):
        found.update(many(Need, app.store.get_many(entity, need_ids)))
    return found


def queue(app: Application, user: User, *, group: str | None = None,
          status: str | None = None, chain: str | None = None,
          county: str | None = None) -> list[JSONObject]:
    """The review queue as ``user`` may see it, with need titles and talent names.

    Args:
        app: the application.
        user: the caller (reviewers default to, and are limited to, their work group).
        group: work group filter.
        status: proposed / approved / rejected / deferred.
        chain: the need's industry chain.
        county: the need's county.

    Returns:
        Suggestion dicts (JSON-ready) with ``need_title``, ``chain``, ``county``, ``talent_name``.
    """
    store = app.store
    items = store.suggestions(work_group=group_for(user, group), status=status)
    needs = _needs(app, list({s.need_id for s in items}))
    talents = many(Talent, store.get_many("talents", list({s.talent_id for s in items})))
    out: list[JSONObject] = []
    for s in items:
        need = needs.get(s.need_id)
        if chain and getattr(need, "chain", None) != chain:
            continue
        if county and getattr(need, "county", None) != county:
            continue
        row: JSONObject = s.model_dump(mode="json")
        row.update(need_title=getattr(need, "title", ""), chain=getattr(need, "chain", None),
                   county=getattr(need, "county", None),
                   talent_name=getattr(talents.get(s.talent_id), "name", ""))
        out.append(row)
    return out


def page(app: Application, user: User, *, group: str | None = None,
         status: str | None = None, chain: str | None = None, county: str | None = None,
         limit: int = 50, offset: int = 0) -> JSONObject:
    """One page of :func:`queue`: ``{"total", "limit", "offset", "items"}``."""
    items = queue(app, user, group=group, status=status, chain=chain, county=county)
    return {"total": len(items), "limit": limit, "offset": offset,
            "items": list(items[offset:offset + limit])}


def suggestion_for(app: Application, user: User, suggestion_id: str) -> Suggestion:
    """The suggestion, 404 when missing, 403 when outside a reviewer's work group."""
    s = app.store.get_suggestion(suggestion_id)
    if s is None:
        raise NotFound(f"找不到推荐「{suggestion_id}」：请检查编号")
    if user.role == "reviewer" and s.work_group.value != user.work_group:
        raise Forbidden("审核员只能处理本工作小组的推荐")
    return s


def decide(app: Application, user: User, suggestion_id: str, status: str, reason: str,
           version: int) -> JSONObject:
    """Record a decision.

    Raises:
        Invalid: an unknown status or an empty reason (422).
        VersionConflict: ``version`` is stale (409).

    Returns:
        The suggestion after the decision (JSON-ready).
    """
    suggestion_for(app, user, suggestion_id)
    action = ACTION_OF_STATUS.get(status)
    if action is None:
        raise Invalid("status 须为 approved / rejected / deferred")
    if not reason.strip():
        raise Invalid("请填写理由 reason")
    decision = Decision(id=f"D{uuid.uuid4().hex[:16]}", suggestion_id=suggestion_id,
                        actor=user.username, action=action, reason=reason.strip(),
                        at=dt.datetime.now(dt.UTC))
    updated: JSONObject = app.store.decide(suggestion_id, version, decision).model_dump(
        mode="json")
    return updated


def audit(app: Application, user: User, *, suggestion_id: str | None = None,
          limit: int = 200, offset: int = 0) -> list[JSONObject]:
    """The audit trail as ``user`` may see it (reviewers: their work group's)."""
    group = user.work_group if user.role == "reviewer" else None
    return list(app.store.audit(suggestion_id=suggestion_id, work_group=group, limit=limit,
                                offset=offset))


def detail(app: Application, user: User, suggestion_id: str) -> JSONObject:
    """One suggestion with its decisions (the API's view)."""
    s = suggestion_for(app, user, suggestion_id)
    out: JSONObject = s.model_dump(mode="json")
    out["decisions"] = list(audit(app, user, suggestion_id=suggestion_id))
    return out


@dataclass
class ReviewDetail:
    """What the review page shows of a suggestion."""

    s: Suggestion
    need: Need | None
    talent: Talent | None
    bars: list[JSONObject] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    alternates: list[JSONObject] = field(default_factory=list)
    strength_zh: str = ""
    explanation: str = ""
    decisions: list[JSONObject] = field(default_factory=list)

    def context(self) -> JSONObject:
        """The fields by name (a template context)."""
        return dict(self.__dict__)


def page_detail(state: ServiceState, user: User, suggestion_id: str) -> ReviewDetail:
    """A suggestion with its explanation, contribution bars, flags and alternates.

    The need's current matches (cached) give the contributions, flags and alternates; when
    they cannot be computed (no index yet) the stored features are shown instead.
    """
    app = state.application
    s = suggestion_for(app, user, suggestion_id)
    need = _needs(app, [s.need_id]).get(s.need_id)
    talent = one(Talent, app.store.get("talents", s.talent_id))
    match: dict[str, Any] | None = None
    shown = ReviewDetail(s=s, need=need, talent=talent)
    if need is not None:
        try:
            result = state.match_need(need, DETAIL_K)
        except Exception:  # the index may be missing: show the stored features only
            result = {"matches": [], "dropped": []}
        shown.strength_zh = str(result.get("strength_zh", "") or "")
        match = next((m for m in result["matches"] if m["talent_id"] == s.talent_id), None)
        shown.alternates = [m for m in result["matches"]
                            if m["talent_id"] != s.talent_id][:5]
        shown.flags = [str(f) for f in (match or {}).get("flags") or []]
        shown.flags += [r for d in result["dropped"] if d["talent_id"] == s.talent_id
                        for r in d["reasons"]]
    contributions = (match or {}).get("contributions")
    values: dict[str, float] = dict(contributions or s.features)
    top = max([abs(v) for v in values.values()] + [1e-9])
    shown.bars = [{"name": k, "label": FEATURE_LABELS.get(k, k), "value": v,
                   "width": round(100 * abs(v) / top, 1), "negative": v < 0}
                  for k, v in sorted(values.items(), key=lambda kv: -abs(kv[1]))]
    shown.explanation = s.explanation or str((match or {}).get("explanation", "") or "")
    shown.decisions = audit(app, user, suggestion_id=suggestion_id)
    return shown
