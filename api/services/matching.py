"""Matches: talents for a need (cached, masked for enterprises), needs and 归根 projects for
a talent, and 揭榜挂帅 leads for a challenge."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from api.service import masking
from api.services.types import JSONObject, User
from api.typed import many
from data.records import Need, Talent

if TYPE_CHECKING:
    from api.service.state import ServiceState
    from api.workflows import Workflows


def need(state: ServiceState, need_id: str) -> Need:
    """A need or challenge by id (404 when missing)."""
    return state.workflows.need(need_id)


def need_matches(state: ServiceState, user: User, need_id: str, k: int) -> JSONObject:
    """Matches of a need as ``user`` may see them (cached; masked for enterprises).

    Args:
        state: the service state.
        user: the caller (an enterprise: its own needs only, masked talents).
        need_id: a need or challenge id.
        k: how many matches.

    Returns:
        The match result (:meth:`api.workflows.Workflows.match_need`); shared with the cache
        for other roles: do not mutate.
    """
    found = state.workflows.need(need_id)
    masking.check_need_owner(user, found)
    result: JSONObject = state.match_need(found, k)
    return _masked(state, user, result) if masking.is_enterprise(user) else result


def _masked(state: ServiceState, user: User, result: JSONObject) -> JSONObject:
    store = state.application.store
    approved = masking.approved_talents(store, user)
    matches: list[dict[str, str]] = result["matches"]  # type: ignore[assignment]
    talents = many(Talent, store.get_many("talents", [m["talent_id"] for m in matches]))
    masked: JSONObject = masking.mask_matches(result, approved, talents)
    return masked


def need_matches_json(state: ServiceState, user: User, need_id: str, k: int) -> bytes:
    """:func:`need_matches` as UTF-8 JSON (other roles: encoded once per cached result)."""
    found = state.workflows.need(need_id)
    masking.check_need_owner(user, found)
    result = state.match_need(found, k)
    if not masking.is_enterprise(user):
        return state.encoded(result)
    masked = _masked(state, user, result)
    return json.dumps(masked, ensure_ascii=False, separators=(",", ":")).encode()


def is_masked(user: User) -> bool:
    """Whether ``user`` sees masked matches and talents (enterprise accounts)."""
    return masking.is_enterprise(user)


def talent_matches(workflows: Workflows, talent_id: str, k: int) -> JSONObject:
    """Needs and 归根 projects for a talent, ranked and explained."""
    result: JSONObject = workflows.match_talent(talent_id, k=k)
    return result


def need_matches_plain(workflows: Workflows, need_id: str, k: int) -> JSONObject:
    """Talents for a need, ranked and explained, unmasked and uncached (the CLI's view)."""
    result: JSONObject = workflows.match_need(need_id, k=k)
    return result


def leads(workflows: Workflows, challenge_id: str, n: int) -> JSONObject:
    """Eligible leads (揭榜人) and a proposed team for a challenge."""
    result: JSONObject = workflows.leads(challenge_id, n_leads=n)
    return result
