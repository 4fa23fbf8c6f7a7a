"""Pairing/matching runs as records, with their suggestions, on an open connection.

A run row holds who started it, its parameters, the solver, the objective, the duration and
a result summary. Its suggestions are inserted in the same transaction. A suggestion for a
(need, talent) pair that is still open (``proposed`` or ``deferred``) from an earlier run is
not duplicated: the open one stays, and the run's result lists it as kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from data.records import Run, Suggestion
from data.store import rows
from data.store.reviews import add_suggestions
from data.store.tables import runs, suggestions

OPEN_STATUSES = ("proposed", "deferred")
RUN_COLUMNS = ("id", "kind", "started_by", "params", "solver", "objective", "duration_s",
               "result", "partial")


def open_pairs(conn: Connection, need_ids: Sequence[str]) -> dict[tuple[str, str], str]:
    """(need_id, talent_id) → suggestion id of the open suggestions of these needs."""
    out: dict[tuple[str, str], str] = {}
    ids = list(dict.fromkeys(need_ids))
    for start in range(0, len(ids), 500):
        query = sa.select(suggestions.c.id, suggestions.c.need_id, suggestions.c.talent_id).where(
            suggestions.c.need_id.in_(ids[start:start + 500]),
            suggestions.c.status.in_(OPEN_STATUSES))
        for sid, need_id, talent_id in conn.execute(query):
            out[(need_id, talent_id)] = sid
    return out


def add_run(conn: Connection, run: Run, items: Sequence[Suggestion]) -> dict[str, Any]:
    """Insert a run and its new suggestions; open duplicates are kept, not re-added.

    Args:
        conn: an open connection inside a transaction.
        run: the run (its ``created_at`` is set here).
        items: the run's suggestions.

    Returns:
        ``{"added": n, "kept_open": [suggestion ids already open]}``.
    """
    existing = open_pairs(conn, [s.need_id for s in items])
    fresh = [s for s in items if (s.need_id, s.talent_id) not in existing]
    kept = [existing[(s.need_id, s.talent_id)] for s in items
            if (s.need_id, s.talent_id) in existing]
    row = {k: getattr(run, k) for k in RUN_COLUMNS}
    row["created_at"] = rows.now()
    conn.execute(sa.insert(runs), [row])
    add_suggestions(conn, fresh)
    return {"added": len(fresh), "kept_open": kept}


def _to_run(row: Mapping[Any, Any]) -> Run:
    """A :class:`Run` from a ``runs`` row."""
    return Run.model_validate(dict(row))


def get_run(conn: Connection, run_id: str) -> Run | None:
    """The run ``run_id``, or None."""
    row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).mappings().first()
    return None if row is None else _to_run(row)


def list_runs(conn: Connection, kind: str | None = None) -> list[Run]:
    """Runs, newest first."""
    query = sa.select(runs)
    if kind is not None:
        query = query.where(runs.c.kind == kind)
    ordered = query.order_by(runs.c.created_at.desc(), runs.c.id.desc())
    return [_to_run(r) for r in conn.execute(ordered).mappings()]
