"""A need's matches as its enterprise follows them: each candidate's review status, and the
contact of the talents a work group approved for this enterprise.

The review status of a candidate is that of its suggestion for this need (any run):
已批准 when one is approved, else 待审核 while one is proposed or deferred, else 已驳回; a
candidate no run suggested has none. Contacts appear only for approved talents — the same
rule as :func:`api.service.masking.approved_talents`, which also shows their employer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from api.service import masking
from api.services import cities, matching
from api.services.types import JSONObject, User
from data.records import Suggestion

if TYPE_CHECKING:
    from api.service.state import ServiceState

REVIEW_LABELS = {"approved": "已批准", "proposed": "待审核", "deferred": "待审核",
                 "rejected": "已驳回"}
"""Suggestion status → what the enterprise reads."""
_PRECEDENCE = ("approved", "proposed", "deferred", "rejected")


def review_status(suggestions: list[Suggestion]) -> dict[str, str]:
    """Talent id → the review status shown for it (``approved`` / ``proposed`` / …)."""
    out: dict[str, str] = {}
    for s in suggestions:
        status = str(s.status.value if hasattr(s.status, "value") else s.status)
        old = out.get(s.talent_id)
        if old is None or _PRECEDENCE.index(status) < _PRECEDENCE.index(old):
            out[s.talent_id] = status
    return out


def matches_with_review(state: ServiceState, user: User, need_id: str, k: int) -> JSONObject:
    """The need's matches as ``user`` may see them, each with ``review_status``,
    ``review_label`` and, for an approved talent, ``contact``; suggested talents that the
    ranking no longer shows are listed under ``reviewed``."""
    result = matching.need_matches(state, user, need_id, k)
    store = state.application.store
    statuses = review_status(store.suggestions(need_id=need_id))
    approved = (masking.approved_talents(store, user) if masking.is_enterprise(user)
                else {t for t, s in statuses.items() if s == "approved"})
    rows: list[JSONObject] = []
    shown: set[str] = set()
    for match in result["matches"]:  # type: ignore[union-attr]
        m: JSONObject = dict(match)  # type: ignore[arg-type]
        talent_id = str(m["talent_id"])
        shown.add(talent_id)
        status = statuses.get(talent_id)
        m["review_status"] = status
        m["review_label"] = REVIEW_LABELS.get(status or "", "未推荐")
        if status == "approved" and talent_id in approved:
            contact = store.get_contact("talents", talent_id)
            if contact is not None:
                m["contact"] = contact.model_dump(exclude_none=True)
        rows.append(m)
    others = sorted(t for t in statuses if t not in shown)
    talents = store.get_many("talents", others)
    others = [t for t in others if cities.sees(user, talents.get(t))]  # a scoped caller
    reviewed: list[JSONObject] = []
    for talent_id in others:
        status = statuses[talent_id]
        row: JSONObject = {"talent_id": talent_id, "review_status": status,
                           "review_label": REVIEW_LABELS[status],
                           "name": str(getattr(talents.get(talent_id), "name", "") or "")}
        if status == "approved" and talent_id in approved:
            contact = store.get_contact("talents", talent_id)
            if contact is not None:
                row["contact"] = contact.model_dump(exclude_none=True)
        reviewed.append(row)
    return {**result, "matches": list(rows), "reviewed": list(reviewed)}
