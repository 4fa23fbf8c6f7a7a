"""The jobs part of the store: background jobs, one active job per kind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from data.store import jobs as job_rows
from data.store.base import Connected
from data.store.errors import ActiveJobExists, ConstraintError


class JobStore(Connected):
    """Background jobs: queue, progress, result, and failure after a restart."""

    def add_job(self, job_id: str, kind: str, params: Mapping[str, Any], *,
                started_by: str | None = None, worker: str | None = None) -> job_rows.Job:
        """Queue a job; one job of a kind may be queued or running at a time.

        Raises:
            ActiveJobExists: a job of ``kind`` is already queued or running (its id is on
                the exception).
        """
        try:
            with self._write() as conn:
                return job_rows.add_job(conn, job_id, kind, params, started_by=started_by,
                                        worker=worker)
        except ConstraintError:
            with self._read() as conn:
                active = job_rows.active_job(conn, kind)
            if active is None:
                raise
            raise ActiveJobExists(kind, active.id) from None

    def get_job(self, job_id: str) -> job_rows.Job | None:
        """The job ``job_id``, or None."""
        with self._read() as conn:
            return job_rows.get_job(conn, job_id)

    def active_job(self, kind: str) -> job_rows.Job | None:
        """The queued or running job of ``kind``, or None."""
        with self._read() as conn:
            return job_rows.active_job(conn, kind)

    def jobs(self, *, kind: str | None = None, status: str | None = None,
             started_by: str | None = None, limit: int = 50) -> list[job_rows.Job]:
        """Jobs, newest first, optionally filtered."""
        with self._read() as conn:
            return job_rows.list_jobs(conn, kind=kind, status=status, started_by=started_by,
                                      limit=limit)

    def start_job(self, job_id: str) -> bool:
        """Queued → running; False when the job is no longer queued."""
        with self._write() as conn:
            return job_rows.mark_running(conn, job_id)

    def job_progress(self, job_id: str, progress: float, message: str) -> bool:
        """Record a running job's progress (0..1) and message."""
        with self._write() as conn:
            return job_rows.set_progress(conn, job_id, progress, message)

    def finish_job(self, job_id: str, *, result: Mapping[str, Any] | None = None,
                   error: str | None = None, message: str | None = None) -> bool:
        """End a job: succeeded with ``result``, or failed with ``error``."""
        with self._write() as conn:
            return job_rows.finish(conn, job_id, result=result, error=error, message=message)

    def fail_interrupted_jobs(self, *, keep_worker: str | None = None) -> list[str]:
        """Mark queued/running jobs of other workers failed (after a restart); their ids."""
        with self._write() as conn:
            return job_rows.fail_interrupted(conn, keep_worker=keep_worker)
