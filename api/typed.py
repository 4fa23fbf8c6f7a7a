"""Typed views of the store's records: the store returns :class:`data.records.Record`; the
caller knows the entity, and says so here once instead of with a ``cast`` at every use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar, cast

from data.records import Record

R = TypeVar("R", bound=Record)


def one(kind: type[R], record: Record | None) -> R | None:
    """``record`` as a ``kind`` (the store read it from the table of that entity)."""
    return cast("R | None", record)


def many(kind: type[R], records: Mapping[str, Record]) -> dict[str, R]:
    """id → record as ``kind``."""
    return cast("dict[str, R]", dict(records))


def each(kind: type[R], records: Iterable[Record]) -> list[R]:
    """The records as ``kind``, in order."""
    return cast("list[R]", list(records))


def record_ids(records: Iterable[Record]) -> list[str]:
    """The ids of stored records (every stored entity has one)."""
    return [str(getattr(r, "id")) for r in records]  # noqa: B009 - Record declares no id
