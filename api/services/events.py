"""Matchmaking events (对接会): minimal CRUD, the shortlist (a background job in the service,
in the foreground in the CLI). Saved shortlist versions, their exports and the organiser's
page are in :mod:`api.services.event_versions`.

The built-in sample event (``EV-sample``) is always available. Exports carry contact fields
only for the roles :data:`api.service.authz.CONTACT_EXPORT_ROLES` allows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from api.events import SAMPLE_EVENT, find_event, load_event
from api.services import cities, jobs
from api.services.errors import Invalid, NotFound
from api.services.types import JSONObject, Progress, User
from data.records import Event

if TYPE_CHECKING:
    from api.application import Application
    from api.service.state import ServiceState
    from api.workflows import Workflows

__all__ = ["MEDIA", "SAMPLE_EVENT"]

MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}
"""Export format → media type."""


def get(app: Application, event_id: str, user: User | None = None) -> Event:
    """The stored event, or the sample event for ``EV-sample``; 404 otherwise, and for a
    city-scoped ``user`` also when the event is another city's."""
    try:
        event = find_event(app.store, event_id)
    except LookupError as exc:
        raise NotFound(str(exc)) from exc
    if user is not None:
        cities.check(user, event, f"找不到对接活动「{event_id}」")
    return event


def listing(app: Application, user: User | None = None) -> JSONObject:
    """Stored events and the sample event (a city-scoped ``user``: its city's only):
    ``{"items": [...]}``."""
    items: list[JSONObject] = list(app.store.list_events())
    if not any(e["id"] == SAMPLE_EVENT.id for e in items):
        items.insert(0, SAMPLE_EVENT.model_dump(mode="json"))
    city = None if user is None else cities.scope(user)
    return {"items": [e for e in items if city is None or e.get("city") == city]}


def put(app: Application, event: Event, user: User | None = None) -> JSONObject:
    """Store an event (same id: replaced); returns it. A city-scoped ``user`` stores its
    city's events only (another city named: 422; an existing event of another city: 404)."""
    data: JSONObject = event.model_dump(mode="json")
    if user is not None and cities.scope(user) is not None:
        if find_exists(app, event.id):
            get(app, event.id, user)  # another city's event: the same 404 as a missing one
        data = cities.stamp(app, user, data)
    app.store.put_event(data)
    return data


def find_exists(app: Application, event_id: str) -> bool:
    """Whether an event ``event_id`` is stored (or is the sample event)."""
    try:
        find_event(app.store, event_id)
    except LookupError:
        return False
    return True


def delete(app: Application, event_id: str, user: User | None = None) -> None:
    """Delete a stored event (404 when there is none, or when it is another city's for a
    city-scoped ``user``)."""
    if user is not None and find_exists(app, event_id):
        get(app, event_id, user)
    if not app.store.delete_event(event_id):
        raise NotFound(f"找不到对接活动「{event_id}」")


def shortlist_params(user: User, event: Event, params: JSONObject) -> JSONObject:
    """A shortlist job's parameters: a city-scoped starter's shortlist ranks its city's
    needs and talents only."""
    city = cities.scope(user)
    return {**params, "city": city} if city is not None else params


def start_shortlist(state: ServiceState, user: User, event_id: str, *, k: int = 20, m: int = 3,
                    meeting_cap: int = 4) -> JSONObject:
    """Queue the event's shortlist job (the event must exist and be visible to the caller);
    returns the job's view."""
    event = get(state.application, event_id, user)
    return jobs.start(state, user, "event_shortlist", shortlist_params(
        user, event, {"event_id": event.id, "k": k, "m": m, "meeting_cap": meeting_cap}))


def shortlist(workflows: Workflows, spec: str, *, export: str | None = None,
              out: Path | None = None, m: int = 3, meeting_cap: int = 4,
              strong: float | None = None, contacts: bool = False,
              progress: Progress = iter) -> JSONObject:
    """The shortlist of the event ``spec`` (a JSON file or ``sample``) in the foreground,
    optionally exported (default file: ``var/<event id>.<format>``).

    Raises:
        Invalid: a missing or invalid event file, or an unknown export format (422).
    """
    try:
        event = load_event(spec)
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    if export and export not in MEDIA:
        raise Invalid(f"--export 只能是 xlsx、csv 或 html，收到「{export}」")
    target = out or (Path("var") / f"{event.id}.{export}" if export else None)
    result: JSONObject = workflows.event_shortlist(
        event, m=m, meeting_cap=meeting_cap, strong=strong, fmt=export, out=target,
        include_contacts=contacts, progress=progress)
    return result
