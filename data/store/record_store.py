"""The records part of the store: talents, enterprises, needs, challenges, projects, their
private contacts, and the journal of imports (:class:`data.io.journal.ImportJournal`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError

from data.records import Contact, Record
from data.store import imports as import_rows
from data.store import repository, rows
from data.store.base import Connected
from data.store.repository import UpsertResult

logger = logging.getLogger(__name__)

ANALYZE_MIN_ROWS = 5000
"""After an upsert writing at least this many records, PostgreSQL statistics are refreshed."""


class RecordStore(Connected):
    """Records and contacts by stable id, and the import journal."""

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

    def content_hashes(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """``{id: content_hash}`` of those of ``ids`` that exist (a read cache's check: the
        hash changes whenever the record's data does).

        Args:
            entity: an entity name.
            ids: stable ids.

        Returns:
            id → content hash.
        """
        rows.check_entity(entity)
        with self._read() as conn:
            return repository.existing_hashes(conn, entity, list(dict.fromkeys(ids)))

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

    def incomplete_imports(self, entity: str | None = None, file_hash: str | None = None,
                           city: str | None = None) -> list[dict[str, Any]]:
        """Imports that did not complete (``running`` — possibly killed — or ``failed``);
        ``city``: only those started by that city's accounts."""
        with self._read() as conn:
            return import_rows.listing(conn, entity=entity, file_hash=file_hash,
                                       incomplete_only=True, city=city)

    def imports(self, limit: int = 100, city: str | None = None) -> list[dict[str, Any]]:
        """The latest import records, newest first, each with an ``incomplete`` flag;
        ``city``: only those started by that city's accounts."""
        with self._read() as conn:
            return import_rows.listing(conn, limit=limit, city=city)
