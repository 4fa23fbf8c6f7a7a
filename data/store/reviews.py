"""Suggestions and review decisions on an open connection.

A decision is applied with optimistic concurrency: ``UPDATE … WHERE version = expected``
bumps the version and sets the status; the append-only decision row is written in the same
transaction. A stale version raises :class:`VersionConflict` and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from data.records import Decision, DecisionAction, Suggestion, SuggestionStatus
from data.store import rows
from data.store.errors import DuplicateIdError, NotFoundError, VersionConflict
from data.store.repository import check_unique, chunks
from data.store.tables import decisions, records, suggestions

STATUS_OF_ACTION: dict[DecisionAction, SuggestionStatus] = {
    DecisionAction.approve: SuggestionStatus.approved,
    DecisionAction.reject: SuggestionStatus.rejected,
    DecisionAction.defer: SuggestionStatus.deferred,
}


def _suggestion_row(s: Suggestion) -> dict[str, Any]:
    """The ``suggestions`` row of a new suggestion."""
    row = s.model_dump(mode="json")
    row["created_at"] = row["updated_at"] = rows.now()
    return row


def _to_suggestion(row: Mapping[Any, Any]) -> Suggestion:
    """A :class:`Suggestion` from a ``suggestions`` row."""
    fields = Suggestion.model_fields
    return Suggestion.model_validate({k: v for k, v in row.items() if k in fields})


def add_suggestions(conn: Connection, items: Sequence[Suggestion]) -> int:
    """Insert new suggestions; an id that is repeated or already stored is an error.

    Returns:
        The number inserted.
    """
    check_unique("suggestions", (s.id for s in items))
    taken: list[str] = []
    for chunk in chunks([s.id for s in items], 500):
        query = sa.select(suggestions.c.id).where(suggestions.c.id.in_(chunk))
        taken.extend(conn.execute(query).scalars())
    if taken:
        raise DuplicateIdError("suggestions", taken)
    if items:
        conn.execute(sa.insert(suggestions), [_suggestion_row(s) for s in items])
    return len(items)


def get_suggestion(conn: Connection, id: str) -> Suggestion | None:
    """The suggestion ``id``, or ``None``."""
    row = conn.execute(sa.select(suggestions).where(suggestions.c.id == id)).mappings().first()
    return None if row is None else _to_suggestion(row)


def in_city(city: str) -> sa.ColumnElement[bool]:
    """The suggestion's need (or challenge) and its talent belong to programme city
    ``city`` (subqueries on ``records``: the city scope of issue #14 item 3, in SQL). A
    pair across two cities (a province-wide run) is seen by unscoped accounts only."""
    needs_of_city = sa.select(records.c.id).where(
        records.c.entity.in_(("needs", "challenges")), records.c.city == city)
    talents_of_city = sa.select(records.c.id).where(records.c.entity == "talents",
                                                    records.c.city == city)
    return sa.and_(suggestions.c.need_id.in_(needs_of_city),
                   suggestions.c.talent_id.in_(talents_of_city))


def _filtered(query: Any, city: str | None, filters: Mapping[str, str | None]) -> Any:
    if city is not None:
        query = query.where(in_city(city))
    for name, value in filters.items():
        if value is not None:
            query = query.where(suggestions.c[name] == str(value))
    return query


def list_suggestions(conn: Connection, *, city: str | None = None, limit: int | None = None,
                     offset: int = 0, **filters: str | None) -> list[Suggestion]:
    """Suggestions matching every given column filter, ordered by need, rank and id.

    Args:
        conn: an open connection.
        city: only suggestions whose need belongs to this programme city (None: any).
        limit / offset: one page of that order (None: all).
        filters: column=value pairs among need_id, talent_id, run_id, work_group, status;
            ``None`` values are ignored.
    """
    query = _filtered(sa.select(suggestions), city, filters)
    query = query.order_by(suggestions.c.need_id, suggestions.c.rank, suggestions.c.id)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return [_to_suggestion(r) for r in conn.execute(query).mappings()]


def count_suggestions(conn: Connection, *, city: str | None = None,
                      **filters: str | None) -> int:
    """How many suggestions :func:`list_suggestions` would return without a limit."""
    query = _filtered(sa.select(sa.func.count()).select_from(suggestions), city, filters)
    return int(conn.execute(query).scalar_one())


def decide(
    conn: Connection, suggestion_id: str, expected_version: int, decision: Decision
) -> Suggestion:
    """Apply ``decision`` if the suggestion is still at ``expected_version``.

    Raises:
        ValueError: the decision names another suggestion.
        NotFoundError: no such suggestion.
        VersionConflict: the suggestion's version is not ``expected_version``.
    """
    if decision.suggestion_id != suggestion_id:
        raise ValueError(
            f"decision.suggestion_id {decision.suggestion_id!r} ≠ suggestion {suggestion_id!r}"
        )
    status = STATUS_OF_ACTION[DecisionAction(decision.action)]
    before = conn.execute(
        sa.select(suggestions.c.status).where(suggestions.c.id == suggestion_id,
                                              suggestions.c.version == expected_version)
    ).scalar_one_or_none()
    stmt = (
        sa.update(suggestions)
        .where(suggestions.c.id == suggestion_id, suggestions.c.version == expected_version)
        .values(version=suggestions.c.version + 1, status=status.value, updated_at=rows.now())
    )
    if conn.execute(stmt).rowcount != 1:
        _raise_stale(conn, suggestion_id, expected_version)
    row = decision.model_dump(mode="json")
    row["at"] = rows.utc(decision.at)
    row["from_status"], row["to_status"] = before, status.value
    conn.execute(sa.insert(decisions), [row])
    updated = get_suggestion(conn, suggestion_id)
    assert updated is not None  # updated in this transaction
    return updated


def _raise_stale(conn: Connection, suggestion_id: str, expected: int) -> None:
    """Raise NotFoundError or VersionConflict for a decide that matched no row."""
    query = sa.select(suggestions.c.version).where(suggestions.c.id == suggestion_id)
    actual = conn.execute(query).scalar_one_or_none()
    if actual is None:
        raise NotFoundError("suggestion", suggestion_id)
    raise VersionConflict(suggestion_id, expected, int(actual))


def list_decisions(conn: Connection, suggestion_id: str | None = None) -> list[Decision]:
    """Decisions, oldest first, optionally of one suggestion."""
    query = sa.select(decisions)
    if suggestion_id is not None:
        query = query.where(decisions.c.suggestion_id == suggestion_id)
    query = query.order_by(decisions.c.at, decisions.c.id)
    return [_to_decision(r) for r in conn.execute(query).mappings()]


def _to_decision(row: Mapping[Any, Any]) -> Decision:
    """A :class:`Decision` from a ``decisions`` row (``at`` as aware UTC)."""
    fields = Decision.model_fields
    data = {k: v for k, v in row.items() if k in fields}
    data["at"] = rows.utc(data["at"])
    return Decision.model_validate(data)


def audit_rows(conn: Connection, *, suggestion_id: str | None = None,
               actor: str | None = None, work_group: str | None = None,
               city: str | None = None, limit: int = 200,
               offset: int = 0) -> list[dict[str, Any]]:
    """The audit trail: decisions newest first with who, when, from, to, why.

    Args:
        conn: an open connection.
        suggestion_id: only this suggestion's decisions.
        actor: only this actor's decisions.
        work_group: only decisions on suggestions of this work group.
        city: only decisions on suggestions whose need belongs to this programme city.
        limit: at most this many rows.
        offset: rows to skip (paging).

    Returns:
        Dicts with id, suggestion_id, need_id, talent_id, work_group, actor, action,
        from_status, to_status, reason and at (ISO text).
    """
    query = sa.select(decisions, suggestions.c.need_id, suggestions.c.talent_id,
                      suggestions.c.work_group).join(
        suggestions, suggestions.c.id == decisions.c.suggestion_id)
    if suggestion_id is not None:
        query = query.where(decisions.c.suggestion_id == suggestion_id)
    if actor is not None:
        query = query.where(decisions.c.actor == actor)
    if work_group is not None:
        query = query.where(suggestions.c.work_group == work_group)
    if city is not None:
        query = query.where(in_city(city))
    query = query.order_by(decisions.c.at.desc(), decisions.c.id.desc()).limit(limit)
    out = []
    for r in conn.execute(query.offset(offset)).mappings():
        item = dict(r)
        item["at"] = rows.utc(item["at"]).isoformat()
        out.append(item)
    return out
