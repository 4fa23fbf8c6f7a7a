"""Masking by role: what an enterprise account may see of talents and needs.

An enterprise sees its own needs only (others' answer 404, exactly as missing ones do, and
the needs it creates get ids assigned by the service); talents appear to it without contact fields and
without their exact employer (organisation, parent organisation) until a pairing of the
talent with one of its needs is approved. Other roles see public records (contacts are never
in public records; exports add them only for the roles :mod:`api.service.authz` allows).
"""

from __future__ import annotations

import uuid
from typing import Any

from api.services.errors import NotFound
from data.store.users import User
from data.visibility import EMPLOYER_FIELDS, HIDDEN, enterprise_view

__all__ = ["EMPLOYER_FIELDS", "HIDDEN", "approved_talents", "check_need_owner",
           "is_enterprise", "mask_matches", "mask_talent", "new_need_id"]


def is_enterprise(user: User) -> bool:
    """Whether ``user`` is an enterprise account (masked views)."""
    return user.role == "enterprise"


def check_need_owner(user: User, need: Any, not_found: str | None = None) -> None:
    """404 when an enterprise asks about a need that is not its own.

    The answer is the caller's own "not found" (``not_found``, default
    「找不到需求「<id>」」), word for word, so that probing ids tells an enterprise nothing
    about other enterprises' needs.
    """
    if is_enterprise(user) and getattr(need, "enterprise_id", None) != user.enterprise_id:
        raise NotFound(not_found or f"找不到需求「{need.id}」")


def new_need_id() -> str:
    """A fresh need id, assigned by the service to needs that enterprise accounts create
    (their own ids could collide with, and so reveal, other enterprises' needs)."""
    return f"N-{uuid.uuid4().hex[:10]}"


def approved_talents(store: Any, user: User) -> set[str]:
    """Talent ids with an approved pairing on one of the enterprise's needs."""
    if not is_enterprise(user):
        return set()
    approved = store.suggestions(status="approved")
    if not approved:
        return set()
    needs: dict[str, Any] = {}
    for entity in ("needs", "challenges"):
        needs.update(store.get_many(entity, list({s.need_id for s in approved})))
    return {s.talent_id for s in approved
            if getattr(needs.get(s.need_id), "enterprise_id", None) == user.enterprise_id}


def _scrub(text: str, secrets: list[str]) -> str:
    for s in secrets:
        if s and len(s) >= 2:
            text = text.replace(s, "某单位")
    return text


def mask_talent(data: dict[str, Any], unmasked: bool, contact: Any = None) -> dict[str, Any]:
    """A talent dict as an enterprise may see it.

    Args:
        data: the public talent (``model_dump``).
        unmasked: a pairing with this enterprise is approved (employer and contact shown).
        contact: the talent's contact, shown only when ``unmasked``.

    Returns:
        A new dict.
    """
    if not unmasked:
        return enterprise_view(data)
    out = dict(data)
    if contact is not None:
        out["contact"] = contact.model_dump(exclude_none=True)
    return out


def mask_matches(result: dict[str, Any], approved: set[str],
                 talents: dict[str, Any]) -> dict[str, Any]:
    """A match result (``Workflows.match_need``) as an enterprise may see it.

    Args:
        result: the unmasked result (not modified).
        approved: talent ids whose employer may be shown.
        talents: id → talent record of the matches (for scrubbing employer names).

    Returns:
        A new result dict; the dropped list keeps ids and reasons only.
    """
    matches = []
    for m in result["matches"]:
        m = dict(m)
        if m["talent_id"] not in approved:
            t = talents.get(m["talent_id"])
            names = [getattr(t, f, None) or "" for f in EMPLOYER_FIELDS]
            m["organisation"] = HIDDEN if m.get("organisation") else None
            m["explanation"] = _scrub(m.get("explanation", ""), names)
            m["flags"] = [_scrub(f, names) for f in m.get("flags", [])]
        matches.append(m)
    return {**result, "matches": matches, "dropped": [], "masked": True}
