"""The review part of the store: suggestions, review decisions, runs and the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from data.records import Decision, Run, Suggestion
from data.store import reviews
from data.store import runs as run_rows
from data.store.base import Connected


class ReviewStore(Connected):
    """Suggestions and their decisions (optimistic versions), runs, and the audit trail."""

    def add_suggestions(self, suggestions: Sequence[Suggestion]) -> int:
        """Store new suggestions (all or none).

        Args:
            suggestions: suggestions with ids not yet stored.

        Returns:
            The number stored.

        Raises:
            DuplicateIdError: an id is repeated or already stored.
        """
        with self._write() as conn:
            return reviews.add_suggestions(conn, suggestions)

    def get_suggestion(self, id: str) -> Suggestion | None:
        """The suggestion ``id`` (with its current status and version), or ``None``."""
        with self._read() as conn:
            return reviews.get_suggestion(conn, id)

    def suggestions(
        self,
        *,
        need_id: str | None = None,
        talent_id: str | None = None,
        run_id: str | None = None,
        work_group: str | None = None,
        status: str | None = None,
        city: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Suggestion]:
        """Suggestions matching all given filters, ordered by need, rank and id.

        Args:
            need_id: only this need's suggestions.
            talent_id: only this talent's suggestions.
            run_id: only this run's suggestions.
            work_group: only this work group's suggestions.
            status: only suggestions in this status.
            city: only suggestions whose need belongs to this programme city (in SQL).
            limit / offset: one page of that order, in SQL (None: all).

        Returns:
            The matching suggestions.
        """
        filters = {"need_id": need_id, "talent_id": talent_id, "run_id": run_id,
                   "work_group": work_group, "status": status}
        with self._read() as conn:
            return reviews.list_suggestions(conn, city=city, limit=limit, offset=offset,
                                            **filters)

    def count_suggestions(self, *, run_id: str | None = None, work_group: str | None = None,
                          status: str | None = None, city: str | None = None) -> int:
        """How many suggestions match the filters (as :meth:`suggestions`, in SQL)."""
        with self._read() as conn:
            return reviews.count_suggestions(conn, city=city, run_id=run_id,
                                             work_group=work_group, status=status)

    def decide(self, suggestion_id: str, expected_version: int, decision: Decision) -> Suggestion:
        """Record a review decision if nobody changed the suggestion meanwhile.

        In one transaction: check ``version == expected_version``, bump the version, set the
        status (approve→approved, reject→rejected, defer→deferred) and append ``decision``.

        Args:
            suggestion_id: the suggestion reviewed.
            expected_version: the version the reviewer saw.
            decision: the decision (its ``suggestion_id`` must match).

        Returns:
            The suggestion after the decision.

        Raises:
            VersionConflict: the version changed; nothing was written.
            NotFoundError: no such suggestion.
            ConstraintError: the decision id is already used; nothing was written.
        """
        with self._write() as conn:
            return reviews.decide(conn, suggestion_id, expected_version, decision)

    def decisions(self, suggestion_id: str | None = None) -> list[Decision]:
        """Review decisions, oldest first, optionally of one suggestion.

        Args:
            suggestion_id: only this suggestion's decisions.

        Returns:
            The decisions.
        """
        with self._read() as conn:
            return reviews.list_decisions(conn, suggestion_id)

    # -- runs -----------------------------------------------------------------------------

    def add_run(self, run: Run, suggestions: Sequence[Suggestion],
                edges: Sequence[tuple[str, str, list[Any]]] = ()) -> dict[str, Any]:
        """Record a run and its suggestions in one transaction (open pairs not duplicated).

        Args:
            run: the run (id, kind, started_by, params, solver, objective, duration_s,
                partial, result); ``created_at`` is set by the store.
            suggestions: the run's suggestions (status ``proposed``).
            edges: the run's ranked edges per need, ``(need_id, basis, [[talent_id, score,
                explanation], …])``; storing them deletes those of earlier runs.

        Returns:
            ``{"added": n, "kept_open": [ids of suggestions already open]}``.
        """
        with self._write() as conn:
            return run_rows.add_run(conn, run, suggestions, edges)

    def run_edges(self, run_id: str, need_ids: Sequence[str]) -> dict[str, tuple[str, list[Any]]]:
        """need_id → (basis, ranked edges) that run ``run_id`` stored, for those of
        ``need_ids`` it stored edges for."""
        with self._read() as conn:
            return run_rows.get_edges(conn, run_id, need_ids)

    def get_run(self, run_id: str) -> Run | None:
        """The run ``run_id`` (params, solver, objective, duration, result), or None."""
        with self._read() as conn:
            return run_rows.get_run(conn, run_id)

    def runs(self, kind: str | None = None, limit: int | None = None) -> list[Run]:
        """Runs, newest first, optionally of one kind (at most ``limit``)."""
        with self._read() as conn:
            return run_rows.list_runs(conn, kind, limit)

    # -- audit ----------------------------------------------------------------------------

    def audit(self, *, suggestion_id: str | None = None, actor: str | None = None,
              work_group: str | None = None, city: str | None = None, limit: int = 200,
              offset: int = 0) -> list[dict[str, Any]]:
        """The audit trail of decisions, newest first (who, when, from, to, why).

        Args:
            suggestion_id: only this suggestion's decisions.
            actor: only this actor's.
            work_group: only decisions on suggestions of this work group.
            city: only decisions on suggestions whose need is of this programme city.
            limit: at most this many.
            offset: skip this many (paging).

        Returns:
            JSON-ready dicts (see :func:`data.store.reviews.audit_rows`).
        """
        with self._read() as conn:
            return reviews.audit_rows(conn, suggestion_id=suggestion_id, actor=actor,
                                      work_group=work_group, city=city, limit=limit,
                                      offset=offset)
