"""Matches: talents for a need (cached, masked for enterprises), needs and 归根 projects for
a talent, and 揭榜挂帅 leads for a challenge."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, cast

from api.service import masking
from api.services import cities
from api.services.errors import NotFound
from api.services.types import JSON, JSONObject, User
from api.typed import many
from api.workflows import RETRIEVE_K
from data.records import Need, Project, Talent

if TYPE_CHECKING:
    from api.service.state import ServiceState
    from api.workflows import Workflows


def need(state: ServiceState, need_id: str) -> Need:
    """A need or challenge by id (404 when missing)."""
    return state.workflows.need(need_id)


def need_for(state: ServiceState, user: User, need_id: str) -> Need:
    """A need or challenge the caller may see: 404 when missing, another enterprise's, or
    another city's (the same answer, so ids cannot be probed)."""
    found = state.workflows.need(need_id)
    masking.check_need_owner(user, found)
    cities.check(user, found, f"找不到需求「{need_id}」")
    return found


def _rows(result: JSONObject, key: str) -> list[JSONObject]:
    """The list of JSON rows at ``result[key]`` (empty when absent)."""
    return cast(list[JSONObject], result.get(key) or [])


def _ids(rows: list[JSONObject], key: str) -> list[str]:
    return [str(r[key]) for r in rows]


def _in_city(state: ServiceState, user: User, result: JSONObject,
             keys: tuple[str, str] = ("matches", "dropped")) -> JSONObject:
    """``result`` without the rows (under ``keys``) of talents outside a city-scoped
    caller's city (the cached result is shared: a new dict is returned, the cached one is
    not touched)."""
    if cities.scope(user) is None:
        return result
    rows = {key: _rows(result, key) for key in keys}
    talents = many(Talent, state.application.store.get_many(
        "talents", [i for key in keys for i in _ids(rows[key], "talent_id")]))
    kept: JSONObject = {key: cast(list[JSON], cities.keep(user, rows[key], talents))
                        for key in keys}
    return {**result, **kept}


def _city_matches(state: ServiceState, user: User, found: Need, k: int) -> JSONObject:
    """The need's best ``k`` matches in a city-scoped caller's city.

    Matches are ranked over every city, so the first ``k`` may hold other cities' talents:
    the ranking is asked deeper (5·k, then the whole retrieved pool) until ``k`` of the
    caller's city are found or the pool is exhausted; each depth is its own cache entry.
    """
    result: JSONObject = {}
    for depth in dict.fromkeys((k, min(5 * k, RETRIEVE_K), RETRIEVE_K)):
        if depth < k:
            continue
        ranked = state.match_need(found, depth)
        result = _in_city(state, user, ranked)
        if len(_rows(result, "matches")) >= k or len(_rows(ranked, "matches")) < depth:
            break
    return {**result, "matches": cast(list[JSON], _rows(result, "matches")[:k])}


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
    found = need_for(state, user, need_id)
    result = (state.match_need(found, k) if cities.scope(user) is None
              else _city_matches(state, user, found, k))
    return _masked(state, user, result) if masking.is_enterprise(user) else result


def _masked(state: ServiceState, user: User, result: JSONObject) -> JSONObject:
    store = state.application.store
    approved = masking.approved_talents(store, user)
    matches: list[dict[str, str]] = result["matches"]  # type: ignore[assignment]
    talents = many(Talent, store.get_many("talents", [m["talent_id"] for m in matches]))
    masked: JSONObject = masking.mask_matches(result, approved, talents)
    return masked


def need_matches_json(state: ServiceState, user: User, need_id: str, k: int) -> bytes:
    """:func:`need_matches` as UTF-8 JSON (unscoped staff: encoded once per cached result)."""
    found = need_for(state, user, need_id)
    if cities.scope(user) is None:
        shown = state.match_need(found, k)
        if not masking.is_enterprise(user):
            return state.encoded(shown)
    else:
        shown = _city_matches(state, user, found, k)
    if masking.is_enterprise(user):
        shown = _masked(state, user, shown)
    return json.dumps(shown, ensure_ascii=False, separators=(",", ":")).encode()


def is_masked(user: User) -> bool:
    """Whether ``user`` sees masked matches and talents (enterprise accounts)."""
    return masking.is_enterprise(user)


def talent_matches(workflows: Workflows, talent_id: str, k: int) -> JSONObject:
    """Needs and 归根 projects for a talent, ranked and explained."""
    result: JSONObject = workflows.match_talent(talent_id, k=k)
    return result


def talent_matches_for(state: ServiceState, user: User, talent_id: str, k: int) -> JSONObject:
    """:func:`talent_matches` as ``user`` may see them: a talent of another city answers
    404, and a city-scoped caller sees its city's needs and projects only."""
    store = state.application.store
    message = f"找不到人才「{talent_id}」：请检查编号"
    talent = store.get("talents", talent_id)
    if talent is None:
        raise NotFound(message)
    cities.check(user, talent, message)
    result = talent_matches(state.workflows, talent_id, k)
    if cities.scope(user) is None:
        return result
    found, projects_found = _rows(result, "needs"), _rows(result, "projects")
    dropped = _rows(result, "dropped")
    needs: dict[str, Need] = {}
    for entity in ("needs", "challenges"):
        needs.update(many(Need, store.get_many(entity, _ids(found, "id") +
                                               _ids(dropped, "need_id"))))
    projects = many(Project, store.get_many("projects", _ids(projects_found, "id")))
    kept: JSONObject = {
        "needs": cast(list[JSON], cities.keep(user, found, needs, "id")),
        "projects": cast(list[JSON], cities.keep(user, projects_found, projects, "id")),
        "dropped": cast(list[JSON], cities.keep(user, dropped, needs, "need_id"))}
    return {**result, **kept}


def need_matches_plain(workflows: Workflows, need_id: str, k: int) -> JSONObject:
    """Talents for a need, ranked and explained, unmasked and uncached (the CLI's view)."""
    result: JSONObject = workflows.match_need(need_id, k=k)
    return result


def leads(workflows: Workflows, challenge_id: str, n: int) -> JSONObject:
    """Eligible leads (揭榜人) and a proposed team for a challenge."""
    result: JSONObject = workflows.leads(challenge_id, n_leads=n)
    return result


def leads_for(state: ServiceState, user: User, challenge_id: str, n: int) -> JSONObject:
    """:func:`leads` as ``user`` may see them: another city's challenge answers 404, and a
    city-scoped caller's leads and team are talents of its city."""
    challenge = state.application.store.get("challenges", challenge_id)
    message = f"找不到揭榜挂帅榜单「{challenge_id}」：请检查编号"
    if challenge is None:
        raise NotFound(message)
    cities.check(user, challenge, message)
    return _in_city(state, user, leads(state.workflows, challenge_id, n), ("leads", "team"))
