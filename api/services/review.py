"""Review: the queue, a suggestion's detail, decisions (optimistic concurrency), the audit
trail, and the audit export.

Reviewers see and decide their own work group's suggestions only; admins see every group.
A city-scoped account sees the suggestions of its city's needs and talents only (filtered
in SQL; another city's suggestion answers 404 like a missing one).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from api.services import cities
from api.services.errors import Forbidden, Invalid, NotFound
from api.services.types import JSONObject, User
from api.typed import many
from data.records import Decision, Enterprise, Need, Suggestion, Talent
from data.store.errors import VersionConflict
from data.taxonomy import work_group_labels

if TYPE_CHECKING:
    from api.application import Application

__all__ = ["GROUP_LABELS", "STATUS_LABELS", "VersionConflict"]

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


SORTS = {"need": "需求", "score": "得分（高→低）", "score_asc": "得分（低→高）",
         "talent": "人才", "enterprise": "企业", "county": "县区", "status": "状态"}
"""Sort keys of the queue and their labels (the default, ``need``, is the run's order)."""


SortKey = tuple[str | float | int, ...]
"""What a queue row sorts by (one shape per sort order)."""


def _sort_key(sort: str) -> Callable[[JSONObject], SortKey]:
    if sort == "score":
        return lambda r: (-float(r["score"] or 0),)  # type: ignore[arg-type]
    if sort == "score_asc":
        return lambda r: (float(r["score"] or 0),)  # type: ignore[arg-type]
    if sort in ("talent", "enterprise", "county", "status"):
        name = {"talent": "talent_name", "enterprise": "enterprise_name"}.get(sort, sort)
        return lambda r: (str(r.get(name) or "￿"), str(r["id"]))
    return lambda r: (str(r["need_id"]), int(r["rank"] or 0), str(r["id"]))  # type: ignore[arg-type]


def _rows(app: Application, items: list[Suggestion], *, chain: str | None = None,
          county: str | None = None, q: str | None = None) -> list[JSONObject]:
    """``items`` as queue rows (need title, talent and enterprise names, warnings), those
    of ``chain`` / ``county`` whose text holds every word of ``q``; one read per entity."""
    store = app.store
    needs = _needs(app, list({s.need_id for s in items}))
    talents = many(Talent, store.get_many("talents", list({s.talent_id for s in items})))
    owners = list({n.enterprise_id for n in needs.values() if n.enterprise_id})
    enterprises = many(Enterprise, store.get_many("enterprises", owners))
    words = (q or "").split()
    out: list[JSONObject] = []
    for s in items:
        need = needs.get(s.need_id)
        if chain and getattr(need, "chain", None) != chain:
            continue
        if county and getattr(need, "county", None) != county:
            continue
        owner = enterprises.get(getattr(need, "enterprise_id", None) or "")
        row: JSONObject = s.model_dump(mode="json")
        row.update(need_title=getattr(need, "title", ""), chain=getattr(need, "chain", None),
                   county=getattr(need, "county", None),
                   talent_name=getattr(talents.get(s.talent_id), "name", ""),
                   enterprise_id=getattr(need, "enterprise_id", None),
                   enterprise_name=getattr(owner, "name", ""),
                   warning="；".join(s.flags))
        if words:
            text = f"{row['need_title']} {row['need_id']} {row['talent_name']} " \
                   f"{row['talent_id']} {row['enterprise_name']}".lower()
            if not all(w.lower() in text for w in words):
                continue
        out.append(row)
    return out


def queue(app: Application, user: User, *, group: str | None = None,
          status: str | None = None, chain: str | None = None,
          county: str | None = None, q: str | None = None, sort: str | None = None,
          run_id: str | None = None) -> list[JSONObject]:
    """The review queue as ``user`` may see it, with need titles, talent and enterprise names.

    Args:
        app: the application.
        user: the caller (reviewers default to, and are limited to, their work group).
        group: work group filter.
        status: proposed / approved / rejected / deferred.
        chain: the need's industry chain.
        county: the need's county.
        q: words that must each occur in the need title, the talent or the enterprise name.
        sort: a key of :data:`SORTS` (default: need, then the run's rank).
        run_id: only this pairing run's suggestions.

    Returns:
        Suggestion dicts (JSON-ready) with ``need_title``, ``chain``, ``county``,
        ``talent_name``, ``enterprise_id``, ``enterprise_name`` and ``warning`` (the stored
        soft-rule flags, joined; empty when none).
    """
    if sort and sort not in SORTS:
        raise Invalid(f"未知排序 sort「{sort}」；可选：{'、'.join(SORTS)}")
    items = app.store.suggestions(work_group=group_for(user, group), status=status,
                                  run_id=run_id, city=cities.scope(user))
    out = _rows(app, items, chain=chain, county=county, q=q)
    if sort and sort != "need":
        out.sort(key=_sort_key(sort))
    return out


def page(app: Application, user: User, *, group: str | None = None,
         status: str | None = None, chain: str | None = None, county: str | None = None,
         limit: int = 50, offset: int = 0) -> JSONObject:
    """One page of :func:`queue`: ``{"total", "limit", "offset", "items"}``. Without a chain
    or county filter the page and the total come from SQL (the queue is not read whole)."""
    if chain is None and county is None:
        filters = {"work_group": group_for(user, group), "status": status,
                   "city": cities.scope(user)}
        items = app.store.suggestions(**filters, limit=limit, offset=offset)
        return {"total": app.store.count_suggestions(**filters), "limit": limit,
                "offset": offset, "items": list(_rows(app, items))}
    rows = queue(app, user, group=group, status=status, chain=chain, county=county)
    return {"total": len(rows), "limit": limit, "offset": offset,
            "items": list(rows[offset:offset + limit])}


def choices(app: Application, user: User | None = None) -> JSONObject:
    """The queue's drop-down choices from the taxonomy: the counties and chains of the
    caller's city (unscoped or none given: the settings' city)."""
    city = app.settings.city if user is None else cities.home(app, user)
    return {"counties": [str(e["name"]) for e in app.taxonomy.vocabulary("county", city).entries],
            "chains": [str(e["name"]) for e in app.taxonomy.vocabulary("chain", city).entries],
            "sorts": dict(SORTS), "reasons": {k: list(v) for k, v in PRESET_REASONS.items()}}


PRESET_REASONS: dict[str, tuple[str, ...]] = {
    "approved": ("研究方向与需求吻合，同意对接", "具备相关成果与经验，同意推荐",
                 "有乡情联系且有回归意向，同意对接"),
    "rejected": ("专业方向不符", "人才已与其他需求对接", "不满足资格条件（职称/等级/在平时间）",
                 "存在回避关系"),
    "deferred": ("需进一步核实人才意向", "需求尚待企业确认", "待工作专班会商"),
}
"""Preset reasons per decision (the pages offer them; free text may follow)."""


def suggestion_for(app: Application, user: User, suggestion_id: str) -> Suggestion:
    """The suggestion, 404 when missing or of another city's need (a city-scoped caller),
    403 when outside a reviewer's work group."""
    s = app.store.get_suggestion(suggestion_id)
    message = f"找不到推荐「{suggestion_id}」：请检查编号"
    if s is None:
        raise NotFound(message)
    if cities.scope(user) is not None:  # its need and its talent: the caller's city
        cities.check(user, _needs(app, [s.need_id]).get(s.need_id), message)
        cities.check(user, app.store.get("talents", s.talent_id), message)
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
    return list(app.store.audit(suggestion_id=suggestion_id, work_group=group,
                                city=cities.scope(user), limit=limit, offset=offset))


def decide_many(app: Application, user: User, items: list[str], status: str, reason: str,
                *, confirm: bool = False) -> JSONObject:
    """Decide a selection of suggestions (bulk review).

    Args:
        app: the application.
        user: the caller (a reviewer decides only in its work group).
        items: ``"<suggestion id>:<version>"`` tokens, as the queue page's checkboxes send.
        status: approved / rejected / deferred.
        reason: the reason (a preset and/or free text), the same for each.
        confirm: whether an already approved suggestion may be decided again.

    Returns:
        ``{"done": [ids], "stale": [ids], "approved_kept": [ids], "missing": [ids]}``:
        decided; changed meanwhile (not decided); approved and left alone without
        ``confirm``; unknown or outside the caller's group.

    Raises:
        Invalid: no selection, an unknown status or an empty reason (422).
    """
    if not items:
        raise Invalid("请先勾选要处理的推荐")
    if ACTION_OF_STATUS.get(status) is None:
        raise Invalid("status 须为 approved / rejected / deferred")
    if not reason.strip():
        raise Invalid("请选择或填写理由 reason")
    out: dict[str, list[str]] = {"done": [], "stale": [], "approved_kept": [], "missing": []}
    for token in items:
        sid, _, version = token.rpartition(":")
        if not sid or not version.isdigit():
            sid, version = token, ""
        try:
            current = suggestion_for(app, user, sid)
        except (NotFound, Forbidden):
            out["missing"].append(sid)
            continue
        if not version:
            version = str(current.version)
        if current.status.value == "approved" and not confirm:
            out["approved_kept"].append(sid)
            continue
        try:
            decide(app, user, sid, status, reason, int(version))
        except VersionConflict:
            out["stale"].append(sid)
            continue
        out["done"].append(sid)
    return {k: list(v) for k, v in out.items()}


def detail(app: Application, user: User, suggestion_id: str) -> JSONObject:
    """One suggestion with its decisions (the API's view)."""
    s = suggestion_for(app, user, suggestion_id)
    out: JSONObject = s.model_dump(mode="json")
    out["decisions"] = list(audit(app, user, suggestion_id=suggestion_id))
    return out


