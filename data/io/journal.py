"""Import records: each import is written down (file hash, counts, status) as it runs.

The importer talks to an :class:`ImportJournal` (``data.store.Store`` is one) so that an
import killed half-way (``kill -9``, a power cut) stays visible as ``running`` with the counts
of its last batch; ``talentmatch stats`` and ``GET /api/v1/imports`` list it as incomplete.
Importing the same file again (same entity, same SHA-256) re-reads every row — rows that
landed before count as unchanged — and, once complete, marks the earlier records
``resumed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

STATUSES = ("running", "complete", "failed", "resumed")
"""running: started and not finished (or killed); complete; failed: stopped by an error;
resumed: an incomplete import that a later import of the same file completed."""

INCOMPLETE = ("running", "failed")
"""Statuses that count as incomplete."""

COUNT_FIELDS = ("rows", "inserted", "updated", "unchanged", "rejected", "last_row")
"""The counts an import record carries."""


class ImportJournal(Protocol):
    """Where import records go."""

    def start_import(self, entry: Mapping[str, Any]) -> str:
        """Record a started import (entity, file_name, file_hash, file_size, format,
        started_by); returns its id."""
        ...

    def progress_import(self, import_id: str, counts: Mapping[str, int]) -> None:
        """Store the counts so far (after each batch)."""
        ...

    def finish_import(self, import_id: str, status: str, counts: Mapping[str, int],
                      message: str | None = None) -> list[str]:
        """Close the record as ``complete`` or ``failed``; a complete one marks earlier
        incomplete imports of the same entity and file ``resumed``, whose ids it returns."""
        ...

    def incomplete_imports(self, entity: str | None = None,
                           file_hash: str | None = None) -> list[dict[str, Any]]:
        """Incomplete import records, newest first, optionally of one entity and file."""
        ...
