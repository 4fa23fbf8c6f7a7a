"""The events part of the store: matchmaking events (:class:`data.records.Event`)."""

from __future__ import annotations

import sqlalchemy as sa

from data.records import Event
from data.store.base import Connected
from data.store.tables import events


def event_data(event: Event) -> dict[str, object]:
    """The JSON stored for an event: the fields it was given (defaults are not stored)."""
    return event.model_dump(mode="json", exclude_unset=True)


class EventStore(Connected):
    """Matchmaking events by id."""

    def put_event(self, event: Event) -> None:
        """Insert or replace a matchmaking event."""
        with self._write() as conn:
            conn.execute(sa.delete(events).where(events.c.id == event.id))
            conn.execute(sa.insert(events), [{"id": event.id, "data": event_data(event)}])

    def get_event(self, event_id: str) -> Event | None:
        """The event ``event_id``, or None."""
        with self._read() as conn:
            row = conn.execute(sa.select(events.c.data).where(events.c.id == event_id)).first()
        return None if row is None else Event.model_validate(row[0])

    def list_events(self) -> list[Event]:
        """Every event, by id."""
        with self._read() as conn:
            query = sa.select(events.c.data).order_by(events.c.id)
            return [Event.model_validate(r[0]) for r in conn.execute(query)]

    def delete_event(self, event_id: str) -> int:
        """Delete an event; returns how many rows went (0 or 1)."""
        with self._write() as conn:
            return int(conn.execute(sa.delete(events).where(events.c.id == event_id)).rowcount)
