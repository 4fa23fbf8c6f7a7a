"""Pairing/matching runs as records, with their suggestions, on an open connection.

A run row holds who started it, its parameters, the solver, the objective, the duration and
a result summary. Its suggestions are inserted in the same transaction. A suggestion for a
(need, talent) pair that is still open (``proposed`` or ``deferred``) from an earlier run is
not duplicated: the open one stays, and the run's result lists it as kept.

A pairing run may also store its ranked candidate edges per need (``run_edges``: the top-k
talents with score and explanation, and the digest of what they were ranked for); storing a
run's edges drops those of earlier runs, so only the latest run's are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from data.records import Run, Suggestion
from data.store import rows
from data.store.reviews import add_suggestions
from data.store.tables import run_edges, runs, suggestions

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


def add_run(conn: Connection, run: Run, items: Sequence[Suggestion],
            edges: Sequence[tuple[str, str, list[Any]]] = ()) -> dict[str, Any]:
    """Insert a run and its new suggestions; open duplicates are kept, not re-added.

    Args:
        conn: an open connection inside a transaction.
        run: the run (its ``created_at`` is set here).
        items: the run's suggestions.
        edges: its ranked edges, ``(need_id, basis, [[talent_id, score, explanation], …])``
            per need; when given, the edges of every earlier run are deleted.

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
    if edges:
        conn.execute(sa.delete(run_edges).where(run_edges.c.run_id != run.id))
        conn.execute(sa.insert(run_edges), [{"run_id": run.id, "need_id": need_id,
                                             "basis": basis, "edges": list(ranked)}
                                            for need_id, basis, ranked in edges])
    return {"added": len(fresh), "kept_open": kept}


def get_edges(conn: Connection, run_id: str,
              need_ids: Iterable[str]) -> dict[str, tuple[str, list[Any]]]:
    """need_id → (basis, ranked edges) of the needs ``run_id`` stored edges for."""
    out: dict[str, tuple[str, list[Any]]] = {}
    ids = list(dict.fromkeys(need_ids))
    for start in range(0, len(ids), 500):
        query = sa.select(run_edges.c.need_id, run_edges.c.basis, run_edges.c.edges).where(
            run_edges.c.run_id == run_id, run_edges.c.need_id.in_(ids[start:start + 500]))
        for need_id, basis, ranked in conn.execute(query):
            out[need_id] = (basis, list(ranked))
    return out


def _to_run(row: Mapping[Any, Any]) -> Run:
    """A :class:`Run` from a ``runs`` row."""
    return Run.model_validate(dict(row))


def get_run(conn: Connection, run_id: str) -> Run | None:
    """The run ``run_id``, or None."""
    row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).mappings().first()
    return None if row is None else _to_run(row)


def list_runs(conn: Connection, kind: str | None = None, limit: int | None = None) -> list[Run]:
    """Runs, newest first (at most ``limit``)."""
    query = sa.select(runs)
    if kind is not None:
        query = query.where(runs.c.kind == kind)
    ordered = query.order_by(runs.c.created_at.desc(), runs.c.id.desc())
    if limit is not None:
        ordered = ordered.limit(limit)
    return [_to_run(r) for r in conn.execute(ordered).mappings()]
