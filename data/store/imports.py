"""Import records on an open connection (see :mod:`data.io.journal` for the meaning).

A record is inserted ``running`` when an import starts, its counts are updated after each
batch, and it is closed ``complete`` or ``failed``. A process killed half-way leaves it
``running``: that, and ``failed``, is what :func:`incomplete` lists. Completing an import
marks the earlier incomplete records of the same entity and file hash ``resumed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from data.store import rows
from data.store.tables import imports, users

COUNTS = ("rows", "inserted", "updated", "unchanged", "rejected", "last_row")
INCOMPLETE = ("running", "failed")
FINAL = ("complete", "failed")


def start(conn: Connection, entry: Mapping[str, Any]) -> str:
    """Insert a ``running`` record; returns its id (``IMP-`` + 16 hex digits)."""
    now = rows.now()
    import_id = f"IMP-{uuid.uuid4().hex[:16]}"
    conn.execute(sa.insert(imports), [{
        "id": import_id, "entity": rows.check_entity(str(entry["entity"])),
        "file_name": str(entry.get("file_name") or "")[:255],
        "file_hash": str(entry["file_hash"]), "file_size": int(entry.get("file_size") or 0),
        "format": str(entry.get("format") or ""), "status": "running",
        "started_by": entry.get("started_by"), "started_at": now, "updated_at": now,
        **{k: 0 for k in COUNTS}}])
    return import_id


def progress(conn: Connection, import_id: str, counts: Mapping[str, int]) -> None:
    """Store the counts so far."""
    values = {k: int(counts[k]) for k in COUNTS if k in counts}
    conn.execute(sa.update(imports).where(imports.c.id == import_id)
                 .values(**values, updated_at=rows.now()))


def finish(conn: Connection, import_id: str, status: str, counts: Mapping[str, int],
           message: str | None = None) -> list[str]:
    """Close a record; a complete one marks earlier incomplete imports of its file resumed.

    Returns:
        The ids of the records marked ``resumed``.
    """
    if status not in FINAL:
        raise ValueError(f"import status must be one of {FINAL}, not {status!r}")
    now = rows.now()
    values = {k: int(counts[k]) for k in COUNTS if k in counts}
    conn.execute(sa.update(imports).where(imports.c.id == import_id).values(
        **values, status=status, message=message, updated_at=now, finished_at=now))
    if status != "complete":
        return []
    row = conn.execute(sa.select(imports.c.entity, imports.c.file_hash)
                       .where(imports.c.id == import_id)).first()
    if row is None:
        return []
    earlier = sa.and_(imports.c.entity == row.entity, imports.c.file_hash == row.file_hash,
                      imports.c.status.in_(INCOMPLETE), imports.c.id != import_id)
    ids = sorted(conn.execute(sa.select(imports.c.id).where(earlier)).scalars())
    if ids:
        conn.execute(sa.update(imports).where(imports.c.id.in_(ids)).values(
            status="resumed", resumed_by=import_id, updated_at=now))
    return ids


def _public(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["incomplete"] = out["status"] in INCOMPLETE
    return out


def listing(conn: Connection, *, entity: str | None = None, file_hash: str | None = None,
            incomplete_only: bool = False, limit: int = 100,
            city: str | None = None) -> list[dict[str, Any]]:
    """Import records, newest first, each with an ``incomplete`` flag.

    ``city``: only imports started by that city's accounts (a city-scoped caller's view; an
    import by an unscoped account may hold any city's rows, so it is not shown).
    """
    query = sa.select(imports)
    if city is not None:
        query = query.where(imports.c.started_by.in_(
            sa.select(users.c.username).where(users.c.city == city)))
    if entity is not None:
        query = query.where(imports.c.entity == entity)
    if file_hash is not None:
        query = query.where(imports.c.file_hash == file_hash)
    if incomplete_only:
        query = query.where(imports.c.status.in_(INCOMPLETE))
    query = query.order_by(imports.c.started_at.desc(), imports.c.id.desc()).limit(limit)
    return [_public(dict(r)) for r in conn.execute(query).mappings()]
