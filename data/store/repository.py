"""Record operations on an open connection; :class:`data.store.Store` wraps each call in one
transaction. All queries are SQLAlchemy Core and portable between SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from data.records import Contact, Record
from data.store import rows
from data.store.errors import DuplicateIdError
from data.store.tables import contacts, records
from data.visibility import search_columns

CHUNK_SIZE = 500
"""Records per round trip when upserting or deleting (keeps SQL parameter counts small)."""

FULL_SCAN_MIN = 2000
"""From this batch size on, upsert reads every stored hash of the entity in one query instead
of looking ids up chunk by chunk. (Chunked lookups inside a transaction that has just filled
the table are slow on PostgreSQL: the planner has no statistics for the new rows yet.)"""


@dataclass
class UpsertResult:
    """What an upsert did, by stable id.

    Attributes:
        inserted: ids that were new.
        updated: ids whose content hash changed (public data and/or contact).
        unchanged: ids whose content hash was the same; nothing was written for them.
    """

    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """``{"inserted": n, "updated": n, "unchanged": n}``."""
        return {
            "inserted": len(self.inserted),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
        }

    @property
    def written(self) -> int:
        """Number of records inserted or updated."""
        return len(self.inserted) + len(self.updated)

    def extend(self, other: UpsertResult) -> None:
        """Add the ids of ``other`` to this result."""
        self.inserted.extend(other.inserted)
        self.updated.extend(other.updated)
        self.unchanged.extend(other.unchanged)


@dataclass
class _Prepared:
    """One record ready to write: its row for ``records`` and its contact."""

    id: str
    row: dict[str, Any]
    contact: Contact | None


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of ``items`` of at most ``size`` elements."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def prepare(entity: str, record: Record | Mapping[str, Any], at: dt.datetime) -> _Prepared:
    """Validate a record and build its ``records`` row (hash, summaries, public JSON)."""
    model = rows.coerce(entity, record)
    dump = model.model_dump(mode="json")
    digest = rows.content_hash(dump)
    contact: Contact | None = getattr(model, "contact", None)
    dump.pop("contact", None)
    row = {"entity": entity, "id": dump["id"], "data": dump, "content_hash": digest}
    row.update(rows.summary_columns(dump))
    row.update(search_columns(entity, dump))
    row["created_at"] = row["updated_at"] = at
    return _Prepared(dump["id"], row, None if contact is None or contact.is_empty() else contact)


def check_unique(kind: str, ids: Iterable[str]) -> None:
    """Raise :class:`DuplicateIdError` if an id occurs more than once."""
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    if dupes:
        raise DuplicateIdError(kind, dupes)


def upsert(
    conn: Connection, entity: str, batch: Sequence[Record | Mapping[str, Any]]
) -> UpsertResult:
    """Insert new records, update changed ones, skip unchanged ones (by content hash).

    Args:
        conn: a connection inside a transaction.
        entity: a known entity name.
        batch: records of that entity (import or public models, or mappings).

    Returns:
        The ids inserted, updated and unchanged, in input order per list.
    """
    at = rows.now()
    prepared = [prepare(entity, r, at) for r in batch]
    check_unique(entity, (p.id for p in prepared))
    if len(prepared) >= FULL_SCAN_MIN:
        stored = hashes(conn, entity)
    else:
        stored = existing_hashes(conn, entity, [p.id for p in prepared])
    result = UpsertResult()
    for chunk in chunks(prepared, CHUNK_SIZE):
        result.extend(_upsert_chunk(conn, entity, chunk, stored))
    return result


def _upsert_chunk(
    conn: Connection, entity: str, chunk: Sequence[_Prepared], stored: Mapping[str, str]
) -> UpsertResult:
    """Upsert one chunk given the stored hashes: bulk INSERT new, bulk UPDATE changed."""
    new = [p for p in chunk if p.id not in stored]
    changed = [p for p in chunk if p.id in stored and stored[p.id] != p.row["content_hash"]]
    if new:
        conn.execute(sa.insert(records), [p.row for p in new])
    if changed:
        _update_rows(conn, changed)
        _delete_contacts(conn, entity, [p.id for p in changed])
    _insert_contacts(conn, entity, new + changed)
    same = [p.id for p in chunk if stored.get(p.id) == p.row["content_hash"]]
    return UpsertResult([p.id for p in new], [p.id for p in changed], same)


def existing_hashes(conn: Connection, entity: str, ids: Sequence[str]) -> dict[str, str]:
    """Stored content hashes of those of ``ids`` that exist (one query per chunk)."""
    found: dict[str, str] = {}
    for chunk in chunks(ids, CHUNK_SIZE):
        query = sa.select(records.c.id, records.c.content_hash).where(
            records.c.entity == entity, records.c.id.in_(chunk)
        )
        found.update({r.id: r.content_hash for r in conn.execute(query)})
    return found


_UPDATED_COLUMNS = (
    "city", "kind", "chain", "county", "category", "status", "enterprise_id", "data",
    "search_text", "search_masked", "content_hash", "updated_at"
)


def _update_rows(conn: Connection, changed: Sequence[_Prepared]) -> None:
    """Bulk UPDATE of changed records (``created_at`` is kept)."""
    stmt = (
        sa.update(records)
        .where(records.c.entity == sa.bindparam("b_entity"), records.c.id == sa.bindparam("b_id"))
        .values({c: sa.bindparam(c) for c in _UPDATED_COLUMNS})
    )
    params = [
        {"b_entity": p.row["entity"], "b_id": p.id, **{c: p.row[c] for c in _UPDATED_COLUMNS}}
        for p in changed
    ]
    conn.execute(stmt, params)


def _insert_contacts(conn: Connection, entity: str, prepared: Sequence[_Prepared]) -> None:
    """Bulk INSERT of the non-empty contacts among ``prepared``."""
    params = [
        {"entity": entity, "id": p.id, "updated_at": p.row["updated_at"], **p.contact.model_dump()}
        for p in prepared
        if p.contact is not None
    ]
    if params:
        conn.execute(sa.insert(contacts), params)


def _delete_contacts(conn: Connection, entity: str, ids: Sequence[str]) -> None:
    """Delete the contacts of ``ids``."""
    conn.execute(sa.delete(contacts).where(contacts.c.entity == entity, contacts.c.id.in_(ids)))


def get(conn: Connection, entity: str, id: str) -> Record | None:
    """The public record ``id`` of ``entity``, or ``None``."""
    query = sa.select(records.c.data).where(records.c.entity == entity, records.c.id == id)
    data = conn.execute(query).scalar_one_or_none()
    return None if data is None else rows.to_public(entity, data)


def get_many(conn: Connection, entity: str, id_list: Sequence[str]) -> dict[str, Record]:
    """Public records of ``entity`` by id (missing ids are absent from the result)."""
    out: dict[str, Record] = {}
    for chunk in chunks(list(dict.fromkeys(id_list)), 500):
        query = sa.select(records.c.id, records.c.data).where(
            records.c.entity == entity, records.c.id.in_(chunk))
        for rid, data in conn.execute(query):
            out[rid] = rows.to_public(entity, data)
    return out


def get_contact(conn: Connection, entity: str, id: str) -> Contact | None:
    """The contact of record ``id`` of ``entity``, or ``None`` when there is none."""
    query = sa.select(contacts).where(contacts.c.entity == entity, contacts.c.id == id)
    row = conn.execute(query).mappings().one_or_none()
    return None if row is None else rows.contact_from_row(row)


FILTER_COLUMNS = ("kind", "county", "category", "status", "city")
"""Key columns that :func:`page` can filter on by equality (``chain`` matches one of a
record's chains)."""


def page(conn: Connection, entity: str, after: str | None, limit: int,
         where: Mapping[str, str] | None = None,
         terms: Sequence[str] = ()) -> list[tuple[str, Any]]:
    """Up to ``limit`` (id, data) pairs of ``entity`` with id > ``after``, ordered by id.

    ``where`` narrows by key columns: equality on :data:`FILTER_COLUMNS`, and ``chain`` equal
    to one of the record's chains (stored joined by ``|``). Each of ``terms`` must occur in
    the stored JSON text of the public record (no contact data is in it).
    """
    query = sa.select(records.c.id, records.c.data).where(records.c.entity == entity)
    text = sa.cast(records.c.data, sa.Text)
    for term in terms:
        query = query.where(text.contains(term, autoescape=True))
    for name, value in (where or {}).items():
        if name == "chain":
            joined = sa.literal("|") + records.c.chain + sa.literal("|")
            query = query.where(joined.contains(f"|{value}|", autoescape=True))
        elif name in FILTER_COLUMNS:
            query = query.where(records.c[name] == value)
        else:
            raise ValueError(f"cannot filter {entity} on {name!r}; filters: chain, "
                             + ", ".join(FILTER_COLUMNS))
    if after is not None:
        query = query.where(records.c.id > after)
    query = query.order_by(records.c.id).limit(limit)
    return [(r.id, r.data) for r in conn.execute(query)]


def _contains_all(conn: Connection, column: sa.ColumnElement[str],
                  terms: Sequence[str]) -> sa.ColumnElement[bool]:
    """Every term occurs in ``column``: a case-sensitive substring test on both backends
    (``instr`` / ``strpos``; no LIKE wildcards to escape)."""
    find = sa.func.strpos if conn.dialect.name == "postgresql" else sa.func.instr
    return sa.and_(sa.true(), *(find(column, term) > 0 for term in terms))


def search(conn: Connection, entity: str, where: Mapping[str, str], terms: Sequence[str],
           limit: int, offset: int, masked_except: Sequence[str] | None = None,
           ) -> tuple[int, list[Any]]:
    """One page of a keyword search and its total, both counted in SQL.

    Args:
        conn: an open connection.
        entity: the entity searched.
        where: key-column filters as for :func:`page`, plus ``enterprise_id`` (the owner).
        terms: words that must all occur in the searched text.
        limit: page size.
        offset: rows skipped (id order).
        masked_except: None to search ``search_text`` (what staff see); otherwise search
            ``search_masked`` (an enterprise's view of talents), except for these ids, whose
            full ``search_text`` the caller may see (approved pairings).

    Returns:
        ``(total, [data, …])`` with the page's stored JSON in id order.
    """
    conditions: list[sa.ColumnElement[bool]] = [records.c.entity == entity]
    for name, value in where.items():
        if name == "chain":
            joined = sa.literal("|") + records.c.chain + sa.literal("|")
            conditions.append(joined.contains(f"|{value}|", autoescape=True))
        elif name in FILTER_COLUMNS or name == "enterprise_id":
            conditions.append(records.c[name] == value)
        else:
            raise ValueError(f"cannot filter {entity} on {name!r}")
    if terms:
        full = _contains_all(conn, records.c.search_text, terms)
        if masked_except is None:
            conditions.append(full)
        else:
            masked = _contains_all(conn, records.c.search_masked, terms)
            seen = list(masked_except)
            conditions.append(sa.or_(masked, sa.and_(records.c.id.in_(seen), full))
                              if seen else masked)
    total = conn.execute(sa.select(sa.func.count()).select_from(records)
                         .where(*conditions)).scalar_one()
    query = (sa.select(records.c.data).where(*conditions).order_by(records.c.id)
             .limit(limit).offset(offset))
    return int(total), [r.data for r in conn.execute(query)]


def ids(conn: Connection, entity: str) -> list[str]:
    """All ids of ``entity``, ordered."""
    query = sa.select(records.c.id).where(records.c.entity == entity).order_by(records.c.id)
    return list(conn.execute(query).scalars())


def hashes(conn: Connection, entity: str) -> dict[str, str]:
    """``{id: content_hash}`` for every record of ``entity``."""
    query = sa.select(records.c.id, records.c.content_hash).where(records.c.entity == entity)
    return {r.id: r.content_hash for r in conn.execute(query)}


def counts(conn: Connection) -> dict[str, int]:
    """Number of records per entity (every entity listed, zeros included)."""
    query = sa.select(records.c.entity, sa.func.count()).group_by(records.c.entity)
    found = {entity: n for entity, n in conn.execute(query)}
    return {entity: int(found.get(entity, 0)) for entity in rows.ENTITIES}


def delete(conn: Connection, entity: str, id_list: Sequence[str]) -> int:
    """Delete records (their contacts go with them); returns how many records existed."""
    deleted = 0
    for chunk in chunks(list(dict.fromkeys(id_list)), CHUNK_SIZE):
        _delete_contacts(conn, entity, chunk)  # explicit, not only ON DELETE CASCADE
        stmt = sa.delete(records).where(records.c.entity == entity, records.c.id.in_(chunk))
        deleted += conn.execute(stmt).rowcount
    return deleted
