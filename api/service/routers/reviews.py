"""The review queue, decisions (optimistic concurrency) and the audit trail.

The functions :func:`queue`, :func:`decide` and :func:`audit` are shared with the web pages.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query

from api.service.authz import require
from api.service.deps import get_state
from api.service.schemas import DecisionIn
from data.records import Decision, WorkGroup
from data.store.users import User
from data.taxonomy import work_group_labels

router = APIRouter(tags=["审核"])

ACTION_OF_STATUS = {"approved": "approve", "rejected": "reject", "deferred": "defer",
                    "approve": "approve", "reject": "reject", "defer": "defer"}
GROUP_LABELS = work_group_labels()
STATUS_LABELS = {"proposed": "待审核", "approved": "已同意", "rejected": "已驳回",
                 "deferred": "暂缓"}


def _group_for(user: User, group: str | None) -> str | None:
    """The work group a caller may look at (reviewers: their own only)."""
    if group is not None and group not in GROUP_LABELS:
        raise HTTPException(422, f"未知工作小组 group「{group}」；可选：{'、'.join(GROUP_LABELS)}")
    if user.role == "reviewer":
        if group is not None and group != user.work_group:
            raise HTTPException(403, f"审核员只能查看本小组（{GROUP_LABELS.get(user.work_group or '', '')}）"
                                "的推荐")
        return user.work_group
    return group


def queue(state: Any, user: User, *, group: str | None = None, status: str | None = None,
          chain: str | None = None, county: str | None = None) -> list[dict[str, Any]]:
    """The review queue as ``user`` may see it, with need titles and talent names.

    Args:
        state: the service state.
        user: the caller (reviewers default to, and are limited to, their work group).
        group: work group filter.
        status: proposed / approved / rejected / deferred.
        chain: the need's industry chain.
        county: the need's county.

    Returns:
        Suggestion dicts (JSON-ready) with ``need_title``, ``chain``, ``county``, ``talent_name``.
    """
    store = state.application.store
    items = store.suggestions(work_group=_group_for(user, group), status=status)
    need_ids = list({s.need_id for s in items})
    needs: dict[str, Any] = {}
    for entity in ("needs", "challenges"):
        needs.update(store.get_many(entity, need_ids))
    talents = store.get_many("talents", list({s.talent_id for s in items}))
    out = []
    for s in items:
        need = needs.get(s.need_id)
        if chain and getattr(need, "chain", None) != chain:
            continue
        if county and getattr(need, "county", None) != county:
            continue
        row = s.model_dump(mode="json")
        row.update(need_title=getattr(need, "title", ""), chain=getattr(need, "chain", None),
                   county=getattr(need, "county", None),
                   talent_name=getattr(talents.get(s.talent_id), "name", ""))
        out.append(row)
    return out


def suggestion_for(state: Any, user: User, suggestion_id: str) -> Any:
    """The suggestion, 404 when missing, 403 when outside a reviewer's work group."""
    s = state.application.store.get_suggestion(suggestion_id)
    if s is None:
        raise HTTPException(404, f"找不到推荐「{suggestion_id}」：请检查编号")
    if user.role == "reviewer" and s.work_group.value != user.work_group:
        raise HTTPException(403, "审核员只能处理本工作小组的推荐")
    return s


def decide(state: Any, user: User, suggestion_id: str, status: str, reason: str,
           version: int) -> dict[str, Any]:
    """Record a decision (stale ``version`` → VersionConflict → 409).

    Returns:
        The suggestion after the decision (JSON-ready).
    """
    suggestion_for(state, user, suggestion_id)
    action = ACTION_OF_STATUS.get(status)
    if action is None:
        raise HTTPException(422, "status 须为 approved / rejected / deferred")
    if not reason.strip():
        raise HTTPException(422, "请填写理由 reason")
    decision = Decision(id=f"D{uuid.uuid4().hex[:16]}", suggestion_id=suggestion_id,
                        actor=user.username, action=action, reason=reason.strip(),
                        at=dt.datetime.now(dt.UTC))
    updated = state.application.store.decide(suggestion_id, version, decision)
    return updated.model_dump(mode="json")


def audit(state: Any, user: User, *, suggestion_id: str | None = None,
          limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    """The audit trail as ``user`` may see it (reviewers: their work group's)."""
    group = user.work_group if user.role == "reviewer" else None
    return state.application.store.audit(
        suggestion_id=suggestion_id, work_group=group, limit=limit, offset=offset)


@router.get("/suggestions", summary="审核队列")
def list_suggestions(group: WorkGroup | None = None, status: str | None = None,
                     chain: str | None = None, county: str | None = None,
                     limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
                     user: User = Depends(require("suggestions.read")),
                     state: Any = Depends(get_state)) -> dict[str, Any]:
    """Suggestions filtered by work group, status, chain and county (paged)."""
    items = queue(state, user, group=group.value if group else None, status=status,
                  chain=chain, county=county)
    return {"total": len(items), "limit": limit, "offset": offset,
            "items": items[offset:offset + limit]}


@router.get("/suggestions/{suggestion_id}", summary="推荐详情")
def get_suggestion(suggestion_id: str, user: User = Depends(require("suggestions.read")),
                   state: Any = Depends(get_state)) -> dict[str, Any]:
    """One suggestion with its decisions."""
    s = suggestion_for(state, user, suggestion_id)
    return {**s.model_dump(mode="json"),
            "decisions": audit(state, user, suggestion_id=suggestion_id)}


@router.post("/suggestions/{suggestion_id}/decision", summary="审核决定")
def post_decision(suggestion_id: str, body: DecisionIn,
                  user: User = Depends(require("suggestions.decide")),
                  state: Any = Depends(get_state)) -> dict[str, Any]:
    """Approve, reject or defer with a reason; a stale ``version`` gets 409."""
    return decide(state, user, suggestion_id, body.status, body.reason, body.version)


@router.get("/audit", summary="审计记录")
def get_audit(suggestion_id: str | None = None, limit: int = Query(200, ge=1, le=1000),
              offset: int = Query(0, ge=0), user: User = Depends(require("audit.read")),
              state: Any = Depends(get_state)) -> dict[str, Any]:
    """Decisions newest first: who, when, from, to, why."""
    return {"items": audit(state, user, suggestion_id=suggestion_id, limit=limit,
                           offset=offset)}
