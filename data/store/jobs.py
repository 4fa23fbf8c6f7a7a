"""Background jobs as rows, on an open connection.

A job is ``queued`` when submitted, ``running`` once a worker picks it up, and ends
``succeeded`` (with a JSON ``result``) or ``failed`` (with an ``error`` message). While it is
queued or running its ``active_kind`` column holds its kind; the column is unique, so the
database itself refuses a second active job of the same kind. ``worker`` names the process
that runs it, so a restarted service can tell the jobs it interrupted from live ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from data.store import rows
from data.store.tables import jobs

ACTIVE = ("queued", "running")
STATUSES = ("queued", "running", "succeeded", "failed")
INTERRUPTED = "服务重启，任务被中断：请重新提交"


@dataclass(frozen=True)
class Job:
    """One background job as stored."""

    id: str
    kind: str
    status: str
    progress: float
    message: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    started_by: str | None
    worker: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (timestamps as ISO 8601 strings, UTC)."""
        out = asdict(self)
        for name in ("created_at", "started_at", "finished_at"):
            value = out[name]
            out[name] = None if value is None else _aware(value).isoformat()
        return out


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _job(row: Mapping[str, Any]) -> Job:
    return Job(id=row["id"], kind=row["kind"], status=row["status"],
               progress=float(row["progress"]), message=row["message"],
               params=dict(row["params"] or {}), result=row["result"], error=row["error"],
               started_by=row["started_by"], worker=row["worker"],
               created_at=_aware(row["created_at"]),
               started_at=None if row["started_at"] is None else _aware(row["started_at"]),
               finished_at=None if row["finished_at"] is None else _aware(row["finished_at"]))


def add_job(conn: Connection, job_id: str, kind: str, params: Mapping[str, Any], *,
            started_by: str | None, worker: str | None) -> Job:
    """Insert a queued job (fails on the unique ``active_kind`` when one is active)."""
    row = {"id": job_id, "kind": kind, "status": "queued", "active_kind": kind,
           "progress": 0.0, "message": "排队中", "params": dict(params), "result": None,
           "error": None, "started_by": started_by, "worker": worker,
           "created_at": rows.now(), "started_at": None, "finished_at": None}
    conn.execute(sa.insert(jobs), [row])
    return _job(row)


def get_job(conn: Connection, job_id: str) -> Job | None:
    """The job ``job_id``, or None."""
    row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
    return None if row is None else _job(dict(row))


def active_job(conn: Connection, kind: str) -> Job | None:
    """The queued or running job of ``kind``, or None."""
    row = conn.execute(sa.select(jobs).where(jobs.c.active_kind == kind)).mappings().first()
    return None if row is None else _job(dict(row))


def list_jobs(conn: Connection, *, kind: str | None = None, status: str | None = None,
              started_by: str | None = None, limit: int = 50) -> list[Job]:
    """Jobs, newest first."""
    query = sa.select(jobs)
    if kind is not None:
        query = query.where(jobs.c.kind == kind)
    if status is not None:
        query = query.where(jobs.c.status == status)
    if started_by is not None:
        query = query.where(jobs.c.started_by == started_by)
    query = query.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit)
    return [_job(dict(r)) for r in conn.execute(query).mappings()]


def mark_running(conn: Connection, job_id: str) -> bool:
    """Queued → running; False when the job is no longer queued."""
    result = conn.execute(sa.update(jobs).where(jobs.c.id == job_id,
                                                jobs.c.status == "queued")
                          .values(status="running", started_at=rows.now(), message="运行中"))
    return bool(result.rowcount)


def set_progress(conn: Connection, job_id: str, progress: float, message: str) -> bool:
    """Record progress (0..1, clamped) of a running job; False when it is not running."""
    value = min(max(float(progress), 0.0), 1.0)
    result = conn.execute(sa.update(jobs).where(jobs.c.id == job_id,
                                                jobs.c.status == "running")
                          .values(progress=value, message=message[:2000]))
    return bool(result.rowcount)


def finish(conn: Connection, job_id: str, *, result: Mapping[str, Any] | None = None,
           error: str | None = None, message: str | None = None) -> bool:
    """Running (or queued) → succeeded (no ``error``) or failed; frees the kind.

    Returns:
        False when the job had already ended (e.g. marked interrupted).
    """
    ok = error is None
    values: dict[str, Any] = {"status": "succeeded" if ok else "failed", "active_kind": None,
                              "finished_at": rows.now(),
                              "result": dict(result) if result is not None else None,
                              "error": None if error is None else error[:4000],
                              "message": message or ("已完成" if ok else "失败")}
    if ok:
        values["progress"] = 1.0
    updated = conn.execute(sa.update(jobs).where(jobs.c.id == job_id,
                                                 jobs.c.status.in_(ACTIVE)).values(**values))
    return bool(updated.rowcount)


def fail_interrupted(conn: Connection, *, keep_worker: str | None = None) -> list[str]:
    """Mark every queued or running job not run by ``keep_worker`` as failed (interrupted).

    Returns:
        The ids of the jobs marked.
    """
    query = sa.select(jobs.c.id).where(jobs.c.status.in_(ACTIVE))
    if keep_worker is not None:
        query = query.where(sa.or_(jobs.c.worker.is_(None), jobs.c.worker != keep_worker))
    ids = [r[0] for r in conn.execute(query)]
    if ids:
        conn.execute(sa.update(jobs).where(jobs.c.id.in_(ids)).values(
            status="failed", active_kind=None, finished_at=rows.now(), error=INTERRUPTED,
            message="已中断"))
    return ids
