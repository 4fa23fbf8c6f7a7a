"""The store: one object over a SQLite file (default) or a PostgreSQL database.

The store is split by concern, each part a class over the same engine:

- :class:`~data.store.record_store.RecordStore` (``store.records``): records, contacts and
  the import journal;
- :class:`~data.store.review_store.ReviewStore` (``store.reviews``): suggestions, decisions,
  runs (:class:`~data.records.Run`) and the audit trail;
- :class:`~data.store.account_store.AccountStore` (``store.accounts``): users and tokens;
- :class:`~data.store.event_store.EventStore` (``store.events``): matchmaking events
  (:class:`~data.records.Event`);
- :class:`~data.store.job_store.JobStore` (``store.job_queue``): background jobs.

:class:`Store` composes them and keeps every method it had, delegating to the parts, so
callers that take a whole store keep working; new code can take just the part it needs.
Every public method runs in its own transaction: a write either happens completely or not
at all. Opening the store migrates the database to the newest revision, keeping its data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Self

from sqlalchemy import Engine

from data.records import Contact, Decision, Event, Record, Run, Suggestion
from data.store import jobs as job_rows
from data.store import migrate as migrations
from data.store import users
from data.store.account_store import AccountStore
from data.store.base import Connected
from data.store.engine import create_store_engine
from data.store.event_store import EventStore, event_data
from data.store.job_store import JobStore
from data.store.record_store import ANALYZE_MIN_ROWS, RecordStore
from data.store.repository import UpsertResult
from data.store.review_store import ReviewStore

__all__ = ["ANALYZE_MIN_ROWS", "MIGRATION_LOCK_KEY", "Store"]

MIGRATION_LOCK_KEY = 0x74616C656E74  # PostgreSQL advisory lock held while migrating


class Store(Connected):
    """Records, contacts, suggestions and decisions behind one database URL.

    Use :meth:`open`; the constructor takes an engine whose schema is already migrated.

    Attributes:
        records: records, contacts and imports.
        reviews: suggestions, decisions, runs and audit.
        accounts: users and API tokens.
        events: matchmaking events.
        job_queue: background jobs.
    """

    def __init__(self, engine: Engine) -> None:
        """Wrap ``engine`` (see :func:`data.store.engine.create_store_engine`)."""
        super().__init__(engine)
        self.records = RecordStore(engine)
        self.reviews = ReviewStore(engine)
        self.accounts = AccountStore(engine)
        self.events = EventStore(engine)
        self.job_queue = JobStore(engine)

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

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    # -- migrations ---------------------------------------------------------------------------

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

    # -- RecordStore: ``self.records`` ------------------------------------------------------------

    def upsert(self, entity: str, records: Sequence[Record | Mapping[str, Any]]) -> UpsertResult:
        """See :meth:`RecordStore.upsert`."""
        return self.records.upsert(entity, records)

    def get(self, entity: str, id: str) -> Record | None:
        """See :meth:`RecordStore.get`."""
        return self.records.get(entity, id)

    def get_many(self, entity: str, ids: Sequence[str]) -> dict[str, Record]:
        """See :meth:`RecordStore.get_many`."""
        return self.records.get_many(entity, ids)

    def content_hashes(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """See :meth:`RecordStore.content_hashes`."""
        return self.records.content_hashes(entity, ids)

    def get_contact(self, entity: str, id: str) -> Contact | None:
        """See :meth:`RecordStore.get_contact`."""
        return self.records.get_contact(entity, id)

    def iter(self, entity: str, batch_size: int = 1000) -> Iterator[Record]:
        """See :meth:`RecordStore.iter`."""
        return self.records.iter(entity, batch_size)

    def iter_where(self, entity: str, where: Mapping[str, str],
                   batch_size: int = 1000, terms: Sequence[str] = ()) -> Iterator[Record]:
        """See :meth:`RecordStore.iter_where`."""
        return self.records.iter_where(entity, where, batch_size, terms)

    def search(self, entity: str, where: Mapping[str, str], terms: Sequence[str],
               limit: int, offset: int, masked_except: Sequence[str] | None = None,
               ) -> tuple[int, list[Record]]:
        """See :meth:`RecordStore.search`."""
        return self.records.search(entity, where, terms, limit, offset, masked_except)

    def ids(self, entity: str) -> list[str]:
        """See :meth:`RecordStore.ids`."""
        return self.records.ids(entity)

    def hashes(self, entity: str) -> dict[str, str]:
        """See :meth:`RecordStore.hashes`."""
        return self.records.hashes(entity)

    def count(self, entity: str) -> int:
        """See :meth:`RecordStore.count`."""
        return self.records.count(entity)

    def counts(self) -> dict[str, int]:
        """See :meth:`RecordStore.counts`."""
        return self.records.counts()

    def delete(self, entity: str, ids: Sequence[str]) -> int:
        """See :meth:`RecordStore.delete`."""
        return self.records.delete(entity, ids)

    def start_import(self, entry: Mapping[str, Any]) -> str:
        """See :meth:`RecordStore.start_import`."""
        return self.records.start_import(entry)

    def progress_import(self, import_id: str, counts: Mapping[str, int]) -> None:
        """See :meth:`RecordStore.progress_import`."""
        return self.records.progress_import(import_id, counts)

    def finish_import(self, import_id: str, status: str, counts: Mapping[str, int],
                      message: str | None = None) -> list[str]:
        """See :meth:`RecordStore.finish_import`."""
        return self.records.finish_import(import_id, status, counts, message)

    def incomplete_imports(self, entity: str | None = None, file_hash: str | None = None,
                           city: str | None = None) -> list[dict[str, Any]]:
        """See :meth:`RecordStore.incomplete_imports`."""
        return self.records.incomplete_imports(entity, file_hash, city)

    def imports(self, limit: int = 100, city: str | None = None) -> list[dict[str, Any]]:
        """See :meth:`RecordStore.imports`."""
        return self.records.imports(limit, city)

    # -- ReviewStore: ``self.reviews`` ------------------------------------------------------------

    def add_suggestions(self, suggestions: Sequence[Suggestion]) -> int:
        """See :meth:`ReviewStore.add_suggestions`."""
        return self.reviews.add_suggestions(suggestions)

    def get_suggestion(self, id: str) -> Suggestion | None:
        """See :meth:`ReviewStore.get_suggestion`."""
        return self.reviews.get_suggestion(id)

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
        """See :meth:`ReviewStore.suggestions`."""
        return self.reviews.suggestions(need_id=need_id, talent_id=talent_id, run_id=run_id,
                                        work_group=work_group, status=status, city=city,
                                        limit=limit, offset=offset)

    def count_suggestions(self, *, run_id: str | None = None, work_group: str | None = None,
                          status: str | None = None, city: str | None = None) -> int:
        """See :meth:`ReviewStore.count_suggestions`."""
        return self.reviews.count_suggestions(run_id=run_id, work_group=work_group,
                                              status=status, city=city)

    def decide(self, suggestion_id: str, expected_version: int, decision: Decision) -> Suggestion:
        """See :meth:`ReviewStore.decide`."""
        return self.reviews.decide(suggestion_id, expected_version, decision)

    def decisions(self, suggestion_id: str | None = None) -> list[Decision]:
        """See :meth:`ReviewStore.decisions`."""
        return self.reviews.decisions(suggestion_id)

    # Runs keep their dict shape here for existing callers; ``self.reviews`` has the typed
    # :class:`~data.records.Run` records.

    def add_run(self, run: Run | Mapping[str, Any], suggestions: Sequence[Suggestion],
                edges: Sequence[tuple[str, str, list[Any]]] = ()) -> dict[str, Any]:
        """See :meth:`ReviewStore.add_run` (``run`` may be a mapping of its fields)."""
        return self.reviews.add_run(Run.model_validate(run), suggestions, edges)

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """The run as a dict (:meth:`ReviewStore.get_run`)."""
        run = self.reviews.get_run(run_id)
        return None if run is None else run.model_dump()

    def runs(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Runs as dicts, newest first (:meth:`ReviewStore.runs`)."""
        return [run.model_dump() for run in self.reviews.runs(kind)]

    def audit(self, *, suggestion_id: str | None = None, actor: str | None = None,
              work_group: str | None = None, city: str | None = None, limit: int = 200,
              offset: int = 0) -> list[dict[str, Any]]:
        """See :meth:`ReviewStore.audit`."""
        return self.reviews.audit(suggestion_id=suggestion_id, actor=actor, work_group=work_group,
                                  city=city, limit=limit, offset=offset)

    # -- AccountStore: ``self.accounts`` ----------------------------------------------------------

    def add_user(self, username: str, role: str, *, password_hash: str | None = None,
                 work_group: str | None = None, enterprise_id: str | None = None,
                 city: str | None = None) -> users.User:
        """See :meth:`AccountStore.add_user`."""
        return self.accounts.add_user(username, role, password_hash=password_hash,
                                      work_group=work_group, enterprise_id=enterprise_id,
                                      city=city)

    def get_user(self, username: str) -> users.User | None:
        """See :meth:`AccountStore.get_user`."""
        return self.accounts.get_user(username)

    def get_user_by_id(self, user_id: str) -> users.User | None:
        """See :meth:`AccountStore.get_user_by_id`."""
        return self.accounts.get_user_by_id(user_id)

    def list_users(self) -> list[users.User]:
        """See :meth:`AccountStore.list_users`."""
        return self.accounts.list_users()

    def set_user_disabled(self, username: str, disabled: bool = True) -> users.User:
        """See :meth:`AccountStore.set_user_disabled`."""
        return self.accounts.set_user_disabled(username, disabled)

    def set_user_city(self, username: str, city: str | None) -> users.User:
        """See :meth:`AccountStore.set_user_city`."""
        return self.accounts.set_user_city(username, city)

    def set_user_password(self, username: str, password_hash: str) -> None:
        """See :meth:`AccountStore.set_user_password`."""
        return self.accounts.set_user_password(username, password_hash)

    def end_sessions(self, user_id: str) -> int:
        """See :meth:`AccountStore.end_sessions`."""
        return self.accounts.end_sessions(user_id)

    def add_token(self, user_id: str, token_hash: str,
                  expires_at: dt.datetime | None = None) -> None:
        """See :meth:`AccountStore.add_token`."""
        return self.accounts.add_token(user_id, token_hash, expires_at)

    def user_by_token(self, token_hash: str) -> users.User | None:
        """See :meth:`AccountStore.user_by_token`."""
        return self.accounts.user_by_token(token_hash)

    def revoke_tokens(self, user_id: str) -> int:
        """See :meth:`AccountStore.revoke_tokens`."""
        return self.accounts.revoke_tokens(user_id)

    def tokens_of(self, user_id: str) -> list[dict[str, Any]]:
        """See :meth:`AccountStore.tokens_of`."""
        return self.accounts.tokens_of(user_id)

    # -- JobStore: ``self.job_queue`` -------------------------------------------------------------

    def add_job(self, job_id: str, kind: str, params: Mapping[str, Any], *,
                started_by: str | None = None, worker: str | None = None) -> job_rows.Job:
        """See :meth:`JobStore.add_job`."""
        return self.job_queue.add_job(job_id, kind, params, started_by=started_by, worker=worker)

    def get_job(self, job_id: str) -> job_rows.Job | None:
        """See :meth:`JobStore.get_job`."""
        return self.job_queue.get_job(job_id)

    def active_job(self, kind: str) -> job_rows.Job | None:
        """See :meth:`JobStore.active_job`."""
        return self.job_queue.active_job(kind)

    def jobs(self, *, kind: str | None = None, status: str | None = None,
             started_by: str | None = None, limit: int = 50) -> list[job_rows.Job]:
        """See :meth:`JobStore.jobs`."""
        return self.job_queue.jobs(kind=kind, status=status, started_by=started_by, limit=limit)

    def start_job(self, job_id: str) -> bool:
        """See :meth:`JobStore.start_job`."""
        return self.job_queue.start_job(job_id)

    def job_progress(self, job_id: str, progress: float, message: str) -> bool:
        """See :meth:`JobStore.job_progress`."""
        return self.job_queue.job_progress(job_id, progress, message)

    def finish_job(self, job_id: str, *, result: Mapping[str, Any] | None = None,
                   error: str | None = None, message: str | None = None) -> bool:
        """See :meth:`JobStore.finish_job`."""
        return self.job_queue.finish_job(job_id, result=result, error=error, message=message)

    def fail_interrupted_jobs(self, *, keep_worker: str | None = None) -> list[str]:
        """See :meth:`JobStore.fail_interrupted_jobs`."""
        return self.job_queue.fail_interrupted_jobs(keep_worker=keep_worker)

    # -- EventStore: ``self.events`` --------------------------------------------------------------

    # Events keep their JSON shape here for existing callers (what was given is what is
    # read back); ``self.events`` has the typed :class:`~data.records.Event` records.

    def put_event(self, event: Event | Mapping[str, Any]) -> None:
        """Insert or replace an event, given as a record or its JSON (validated)."""
        self.events.put_event(Event.model_validate(event))

    def get_event(self, event_id: str) -> dict[str, Any] | None:
        """The event's JSON data, or None (:meth:`EventStore.get_event`)."""
        event = self.events.get_event(event_id)
        return None if event is None else event_data(event)

    def list_events(self) -> list[dict[str, Any]]:
        """Every event's JSON data, by id (:meth:`EventStore.list_events`)."""
        return [event_data(event) for event in self.events.list_events()]

    def delete_event(self, event_id: str) -> int:
        """See :meth:`EventStore.delete_event`."""
        return self.events.delete_event(event_id)
