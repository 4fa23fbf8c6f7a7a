"""The store: one object over a SQLite file (default) or a PostgreSQL database.

Every public method runs in its own transaction: a write either happens completely or not
at all. Opening the store migrates the database to the newest revision, keeping its data.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from data.records import Contact, Decision, Record, Suggestion
from data.store import imports as import_rows
from data.store import jobs as job_rows
from data.store import migrate as migrations
from data.store import repository, reviews, rows, users
from data.store import runs as run_rows
from data.store.engine import WRITE_OPTION, create_store_engine
from data.store.errors import ActiveJobExists, ConstraintError
from data.store.repository import UpsertResult

logger = logging.getLogger(__name__)

MIGRATION_LOCK_KEY = 0x74616C656E74  # PostgreSQL advisory lock held while migrating

ANALYZE_MIN_ROWS = 5000
"""After an upsert writing at least this many records, PostgreSQL statistics are refreshed."""


class Store:
    """Records, contacts, suggestions and decisions behind one database URL.

    Use :meth:`open`; the constructor takes an engine whose schema is already migrated.
    """

    def __init__(self, engine: Engine) -> None:
        """Wrap ``engine`` (see :func:`data.store.engine.create_store_engine`)."""
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Self:
        """Open (and create or migrate to head) the database at ``url``.

        Args:
            url: ``sqlite:///path`` (parent folders are created), ``sqlite://`` (in memory) or
                ``postgresql://user@host:port/db``.

        Returns:
            The store, schema at the newest revision.
        """
        store = cls(create_store_engine(url))
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    # -- transactions and migrations ------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A connection in a write transaction; DB constraint failures become ConstraintError."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    yield conn
        except IntegrityError as exc:
            detail = str(exc.orig).splitlines()[0][:300]
            raise ConstraintError(f"数据库拒绝写入 (constraint failed): {detail}") from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection in a read transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def migrate(self, revision: str = "head") -> str | None:
        """Migrate the schema up to ``revision`` (already applied revisions are skipped).

        Args:
            revision: target revision, ``head`` by default.

        Returns:
            The revision the database is at afterwards.
        """
        with self._write() as conn:
            if conn.dialect.name == "postgresql":  # serialise concurrent migrations
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
            migrations.upgrade(conn, revision)
            return migrations.current_revision(conn)

    @property
    def revision(self) -> str | None:
        """The schema revision the database is at (``None`` if never migrated)."""
        with self._read() as conn:
            return migrations.current_revision(conn)

    @staticmethod
    def head_revision() -> str | None:
        """The newest schema revision this code ships."""
        return migrations.head_revision()

    # -- records --------------------------------------------------------------------------

    def upsert(self, entity: str, records: Sequence[Record | Mapping[str, Any]]) -> UpsertResult:
        """Insert or update records by their stable id, in one transaction.

        A record is *unchanged* when the content hash of its import form (contact included,
        ``updated_at`` as given) equals the stored one; nothing is written for it. Contact
        data goes to ``contacts``, never into the public ``data``; a record given without a
        contact has none afterwards.

        Args:
            entity: one of talents, enterprises, needs, challenges, projects.
            records: import records (``TalentCreate`` …), public records or field mappings.

        Returns:
            The ids inserted, updated and unchanged.

        Raises:
            ValueError: unknown entity; pydantic.ValidationError for an invalid record.
            DuplicateIdError: an id occurs twice in ``records``.
            ConstraintError: the database refused a row; nothing was written.
        """
        rows.check_entity(entity)
        with self._write() as conn:
            result = repository.upsert(conn, entity, records)
        if result.written >= ANALYZE_MIN_ROWS:
            self._analyze()
        return result

    def _analyze(self) -> None:
        """Refresh PostgreSQL planner statistics after a bulk write (autovacuum lags)."""
        if self.engine.dialect.name != "postgresql":
            return
        try:
            with self.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE records, contacts")
        except DBAPIError as exc:  # e.g. not the table owner: only a missed optimisation
            logger.warning("ANALYZE after bulk write failed: %s", exc.orig)

    def get(self, entity: str, id: str) -> Record | None:
        """The public record (no contact) ``id`` of ``entity``, or ``None``.

        Args:
            entity: an entity name.
            id: the stable id.

        Returns:
            An instance of ``PUBLIC_MODELS[entity]`` (challenges are ``Challenge``) or None.
        """
        rows.check_entity(entity)
        with self._read() as conn:
            return repository.get(conn, entity, id)

    def get_many(self, entity: str, ids: Sequence[str]) -> dict[str, Record]:
        """Public records of ``entity`` by id, read in chunks (missing ids are left out).

        Args:
            entity: an entity name.
            ids: stable ids.

        Returns:
            id → public record.
        """
        rows.check_entity(entity)
        with self._read() as conn:
            return repository.get_many(conn, entity, ids)

    def get_contact(self, entity: str, id: str) -> Contact | None:
        """The private contact of record ``id``, or ``None`` when it has none.

        Args:
            entity: an entity name (only talents and enterprises carry contacts).
            id: the stable id.

        Returns:
            The contact or None.
        """
        rows.check_entity(entity)
        with self._read() as conn:
            return repository.get_contact(conn, entity, id)

    def iter(self, entity: str, batch_size: int = 1000) -> Iterator[Record]:
        """Every public record of ``entity`` in id order, read ``batch_size`` at a time.

        Each batch is read in its own short transaction (keyset pagination on id), so a long
        iteration holds no lock; records written meanwhile may or may not be seen.

        Args:
            entity: an entity name.
            batch_size: records per query (≥ 1).

        Returns:
            An iterator of public records.
        """
        rows.check_entity(entity)
        if batch_size < 1:
            raise ValueError("batch_size must be ≥ 1")
        return self._iter(entity, batch_size)

    def iter_where(self, entity: str, where: Mapping[str, str],
                   batch_size: int = 1000, terms: Sequence[str] = ()) -> Iterator[Record]:
        """Like :meth:`iter`, narrowed in SQL by key columns and words.

        Args:
            entity: an entity name.
            where: ``chain`` (one of the record's chains) and equality on kind, county
                (a talent's hometown county), category, status, city.
            batch_size: records per query (≥ 1).
            terms: words that must all occur in the stored public record's JSON text (a
                coarse pre-filter: callers check the exact fields they may search).

        Returns:
            An iterator of the matching public records, in id order.
        """
        rows.check_entity(entity)
        if batch_size < 1:
            raise ValueError("batch_size must be ≥ 1")
        return self._iter(entity, batch_size, dict(where), tuple(terms))

    def _iter(self, entity: str, batch_size: int,
              where: Mapping[str, str] | None = None,
              terms: Sequence[str] = ()) -> Iterator[Record]:
        after: str | None = None
        while True:
            with self._read() as conn:
                batch = repository.page(conn, entity, after, batch_size, where, terms)
            for _, data in batch:
                yield rows.to_public(entity, data)
            if len(batch) < batch_size:
                return
            after = batch[-1][0]

    def search(self, entity: str, where: Mapping[str, str], terms: Sequence[str],
               limit: int, offset: int, masked_except: Sequence[str] | None = None,
               ) -> tuple[int, list[Record]]:
        """One page of a keyword search and its total, counted in SQL (issue #11).

        Args:
            entity: an entity name.
            where: ``chain``, equality on kind, county, category, status, city and
                ``enterprise_id`` (the owner of a need, challenge or project).
            terms: words that must all occur in the searched text (case-sensitive).
            limit: page size (≥ 1).
            offset: records skipped, in id order.
            masked_except: None searches what staff see; a list searches an enterprise's
                view of talents (:mod:`data.visibility`), except these ids (its approved
                pairings), whose full public text it may search.

        Returns:
            ``(total, records)``: the total matching and one page of public records.
        """
        rows.check_entity(entity)
        with self._read() as conn:
            total, found = repository.search(conn, entity, dict(where), tuple(terms),
                                             limit, offset, masked_except)
        return total, [rows.to_public(entity, data) for data in found]

    def ids(self, entity: str) -> list[str]:
        """All ids of ``entity``, sorted (byte order on both backends)."""
        rows.check_entity(entity)
        with self._read() as conn:
            return repository.ids(conn, entity)

    def hashes(self, entity: str) -> dict[str, str]:
        """``{id: content_hash}`` of every record of ``entity`` (for change detection)."""
        rows.check_entity(entity)
        with self._read() as conn:
            return repository.hashes(conn, entity)

    def count(self, entity: str) -> int:
        """Number of records of ``entity``."""
        return self.counts()[rows.check_entity(entity)]

    def counts(self) -> dict[str, int]:
        """Records per entity: ``{"talents": n, "enterprises": n, "needs": n, …}``."""
        with self._read() as conn:
            return repository.counts(conn)

    def delete(self, entity: str, ids: Sequence[str]) -> int:
        """Delete records and their contacts, in one transaction.

        Args:
            entity: an entity name.
            ids: stable ids; unknown ids are ignored.

        Returns:
            The number of records deleted.
        """
        rows.check_entity(entity)
        if isinstance(ids, str):
            raise TypeError("ids must be a sequence of ids, not one string")
        with self._write() as conn:
            return repository.delete(conn, entity, ids)

    # -- suggestions and decisions --------------------------------------------------------

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
    ) -> list[Suggestion]:
        """Suggestions matching all given filters, ordered by need, rank and id.

        Args:
            need_id: only this need's suggestions.
            talent_id: only this talent's suggestions.
            run_id: only this run's suggestions.
            work_group: only this work group's suggestions.
            status: only suggestions in this status.

        Returns:
            The matching suggestions.
        """
        filters = {"need_id": need_id, "talent_id": talent_id, "run_id": run_id,
                   "work_group": work_group, "status": status}
        with self._read() as conn:
            return reviews.list_suggestions(conn, **filters)

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

    def add_run(self, run: Mapping[str, Any], suggestions: Sequence[Suggestion]) -> dict[str, Any]:
        """Record a run and its suggestions in one transaction (open pairs not duplicated).

        Args:
            run: id, kind, started_by, params, solver, objective, duration_s, partial, result.
            suggestions: the run's suggestions (status ``proposed``).

        Returns:
            ``{"added": n, "kept_open": [ids of suggestions already open]}``.
        """
        with self._write() as conn:
            return run_rows.add_run(conn, run, suggestions)

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """The run ``run_id`` (params, solver, objective, duration, result), or None."""
        with self._read() as conn:
            return run_rows.get_run(conn, run_id)

    def runs(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Runs, newest first, optionally of one kind."""
        with self._read() as conn:
            return run_rows.list_runs(conn, kind)

    # -- background jobs ------------------------------------------------------------------

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

    # -- audit and accounts ---------------------------------------------------------------

    def audit(self, *, suggestion_id: str | None = None, actor: str | None = None,
              work_group: str | None = None, limit: int = 200,
              offset: int = 0) -> list[dict[str, Any]]:
        """The audit trail of decisions, newest first (who, when, from, to, why).

        Args:
            suggestion_id: only this suggestion's decisions.
            actor: only this actor's.
            work_group: only decisions on suggestions of this work group.
            limit: at most this many.
            offset: skip this many (paging).

        Returns:
            JSON-ready dicts (see :func:`data.store.reviews.audit_rows`).
        """
        with self._read() as conn:
            return reviews.audit_rows(conn, suggestion_id=suggestion_id, actor=actor,
                                      work_group=work_group, limit=limit, offset=offset)

    def add_user(self, username: str, role: str, *, password_hash: str | None = None,
                 work_group: str | None = None, enterprise_id: str | None = None,
                 ) -> users.User:
        """Create a service account (see :func:`data.store.users.add_user`)."""
        with self._write() as conn:
            return users.add_user(conn, username, role, password_hash=password_hash,
                                  work_group=work_group, enterprise_id=enterprise_id)

    def get_user(self, username: str) -> users.User | None:
        """The account named ``username``, or None."""
        with self._read() as conn:
            return users.get_by_name(conn, username)

    def get_user_by_id(self, user_id: str) -> users.User | None:
        """The account ``user_id``, or None."""
        with self._read() as conn:
            return users.get_user(conn, user_id)

    def list_users(self) -> list[users.User]:
        """Every account."""
        with self._read() as conn:
            return users.list_users(conn)

    def set_user_disabled(self, username: str, disabled: bool = True) -> users.User:
        """Disable (or enable) an account; NotFoundError when there is none."""
        with self._write() as conn:
            return users.set_disabled(conn, username, disabled)

    def set_user_password(self, username: str, password_hash: str) -> None:
        """Replace an account's password hash; NotFoundError when there is none."""
        with self._write() as conn:
            users.set_password(conn, username, password_hash)

    def end_sessions(self, user_id: str) -> int:
        """Revoke every session of an account (bump its epoch); returns the new epoch."""
        with self._write() as conn:
            return users.end_sessions(conn, user_id)

    def add_token(self, user_id: str, token_hash: str,
                  expires_at: dt.datetime | None = None) -> None:
        """Store the hash of a new API token (expiring at ``expires_at``)."""
        with self._write() as conn:
            users.add_token(conn, user_id, token_hash, expires_at)

    def user_by_token(self, token_hash: str) -> users.User | None:
        """The account owning a live (unexpired, unrevoked) token with this hash, or None."""
        with self._read() as conn:
            return users.user_by_token(conn, token_hash)

    # -- import records (data.io.journal.ImportJournal) -----------------------------------

    def start_import(self, entry: Mapping[str, Any]) -> str:
        """Record a started import (entity, file_name, file_hash, file_size, format,
        started_by); returns its id."""
        with self._write() as conn:
            return import_rows.start(conn, entry)

    def progress_import(self, import_id: str, counts: Mapping[str, int]) -> None:
        """Store an import's counts so far (rows, inserted, …, last_row)."""
        with self._write() as conn:
            import_rows.progress(conn, import_id, counts)

    def finish_import(self, import_id: str, status: str, counts: Mapping[str, int],
                      message: str | None = None) -> list[str]:
        """Close an import record ``complete`` or ``failed``.

        Returns:
            The ids of earlier incomplete imports of the same file now marked ``resumed``.
        """
        with self._write() as conn:
            return import_rows.finish(conn, import_id, status, counts, message)

    def incomplete_imports(self, entity: str | None = None,
                           file_hash: str | None = None) -> list[dict[str, Any]]:
        """Imports that did not complete (``running`` — possibly killed — or ``failed``)."""
        with self._read() as conn:
            return import_rows.listing(conn, entity=entity, file_hash=file_hash,
                                       incomplete_only=True)

    def imports(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest import records, newest first, each with an ``incomplete`` flag."""
        with self._read() as conn:
            return import_rows.listing(conn, limit=limit)
    def revoke_tokens(self, user_id: str) -> int:
        """Revoke every live API token of an account; returns how many."""
        with self._write() as conn:
            return users.revoke_tokens(conn, user_id)

    def tokens_of(self, user_id: str) -> list[dict[str, Any]]:
        """An account's API tokens: created, expires, revoked (no hashes)."""
        with self._read() as conn:
            return users.tokens_of(conn, user_id)

    # -- events ---------------------------------------------------------------------------

    def put_event(self, event: Mapping[str, Any]) -> None:
        """Insert or replace a matchmaking event (its ``id`` and JSON data)."""
        import sqlalchemy as sa

        from data.store.tables import events

        with self._write() as conn:
            conn.execute(sa.delete(events).where(events.c.id == event["id"]))
            conn.execute(sa.insert(events), [{"id": event["id"], "data": dict(event)}])

    def get_event(self, event_id: str) -> dict[str, Any] | None:
        """The event's JSON data, or None."""
        import sqlalchemy as sa

        from data.store.tables import events

        with self._read() as conn:
            row = conn.execute(sa.select(events.c.data).where(events.c.id == event_id)).first()
        return None if row is None else dict(row[0])

    def list_events(self) -> list[dict[str, Any]]:
        """Every event's JSON data, by id."""
        import sqlalchemy as sa

        from data.store.tables import events

        with self._read() as conn:
            return [dict(r[0]) for r in conn.execute(sa.select(events.c.data)
                                                     .order_by(events.c.id))]

    def delete_event(self, event_id: str) -> int:
        """Delete an event; returns how many rows went (0 or 1)."""
        import sqlalchemy as sa

        from data.store.tables import events

        with self._write() as conn:
            return int(conn.execute(sa.delete(events).where(events.c.id == event_id)).rowcount)
