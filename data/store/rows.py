"""Records ↔ rows: entity names, model lookup, content hashes and the summary columns.

The content hash is the SHA-256 of the canonical JSON (sorted keys, compact separators,
UTF-8) of the *import* record, contact included, exactly as given: the store never fills
in ``updated_at``, so re-importing the same file hashes the same, while a record whose
source bumped ``updated_at`` counts as updated. ``data`` holds the public record (the import
record without ``contact``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from data.records import ENTITY_MODELS, PUBLIC_MODELS, Contact, Record

ENTITIES: tuple[str, ...] = tuple(ENTITY_MODELS)
"""The importable entity names, in the order counts are reported."""

CONTACT_FIELDS = ("phone", "email", "wechat")


def check_entity(entity: str) -> str:
    """Return ``entity`` if it is one of :data:`ENTITIES`.

    Args:
        entity: an entity name, e.g. ``"talents"``.

    Returns:
        The same name.

    Raises:
        ValueError: for an unknown name; the message lists the known entities.
    """
    if entity not in ENTITY_MODELS:
        known = ", ".join(ENTITIES)
        raise ValueError(f"未知的数据类型 (unknown entity) {entity!r}; expected one of: {known}")
    return entity


def coerce(entity: str, record: Record | Mapping[str, Any]) -> Record:
    """Make ``record`` an instance of the entity's import model.

    Args:
        entity: a known entity name.
        record: an import record, a public record (no contact) or a mapping of fields.

    Returns:
        An instance of ``ENTITY_MODELS[entity]``, validated.
    """
    model = ENTITY_MODELS[entity]
    if type(record) is model:
        return record
    if isinstance(record, Mapping):
        return model.model_validate(dict(record))
    return model.model_validate(record.model_dump())


def canonical_json(value: Any) -> str:
    """Canonical JSON text: sorted keys, compact, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(dump: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a record dump (``model_dump(mode="json")``).

    Args:
        dump: the JSON-mode dump of the import record, contact included.

    Returns:
        64 hex characters.
    """
    return hashlib.sha256(canonical_json(dump).encode("utf-8")).hexdigest()


def summary_columns(data: Mapping[str, Any]) -> dict[str, Any]:
    """The filter columns of ``records`` taken from a record dump.

    ``chain`` is the record's chain, or its chains joined with ``|``; ``county`` is the
    record's county, or a talent's hometown county.

    Args:
        data: the JSON-mode dump of a record.

    Returns:
        ``city``, ``kind``, ``chain``, ``county``, ``category``, ``status``.
    """
    chain = data.get("chain")
    if chain is None and data.get("chains"):
        chain = "|".join(data["chains"])
    return {
        "city": data.get("city"),
        "kind": data.get("kind"),
        "chain": chain,
        "county": data.get("county", data.get("hometown_county")),
        "category": data.get("category"),
        "status": data.get("status"),
    }


def to_public(entity: str, data: Mapping[str, Any]) -> Record:
    """Build the public record from a stored ``data`` JSON.

    Args:
        entity: a known entity name.
        data: the stored JSON object.

    Returns:
        An instance of ``PUBLIC_MODELS[entity]`` (``Challenge`` for challenges).
    """
    return PUBLIC_MODELS[entity].model_validate(data)


def contact_from_row(row: Mapping[Any, Any]) -> Contact:
    """Build a :class:`Contact` from a ``contacts`` row."""
    return Contact.model_validate({k: row[k] for k in CONTACT_FIELDS})


def utc(value: dt.datetime) -> dt.datetime:
    """Normalise a datetime to aware UTC; a naive one is taken to be UTC already.

    Args:
        value: a datetime (SQLite hands back naive ones).

    Returns:
        The same instant, aware, in UTC.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)
