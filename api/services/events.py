"""Matchmaking events (对接会): minimal CRUD, the shortlist (a background job in the service,
in the foreground in the CLI), its exports, and the organiser's page.

The built-in sample event (``EV-sample``) is always available. Exports carry contact fields
only for the roles :data:`api.service.authz.CONTACT_EXPORT_ROLES` allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from api.events import SAMPLE_EVENT, find_event, load_event
from api.jobs.tasks import shortlist_file
from api.service.authz import may_export_contacts
from api.services import jobs
from api.services.errors import Conflict, Invalid, NotFound
from api.services.types import FileDownload, JSONObject, Progress, User
from data.records import Event
from data.store.errors import ActiveJobExists
from data.store.jobs import Job

if TYPE_CHECKING:
    from api.application import Application
    from api.service.state import ServiceState
    from api.workflows import Workflows

__all__ = ["MEDIA", "SAMPLE_EVENT", "EventPage"]

MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}
"""Export format → media type."""


def get(app: Application, event_id: str) -> Event:
    """The stored event, or the sample event for ``EV-sample``; 404 otherwise."""
    try:
        return find_event(app.store, event_id)
    except LookupError as exc:
        raise NotFound(str(exc)) from exc


def listing(app: Application) -> JSONObject:
    """Stored events and the sample event: ``{"items": [...]}``."""
    items: list[JSONObject] = list(app.store.list_events())
    if not any(e["id"] == SAMPLE_EVENT.id for e in items):
        items.insert(0, SAMPLE_EVENT.model_dump(mode="json"))
    return {"items": list(items)}


def put(app: Application, event: Event) -> JSONObject:
    """Store an event (same id: replaced); returns it."""
    data: JSONObject = event.model_dump(mode="json")
    app.store.put_event(data)
    return data


def delete(app: Application, event_id: str) -> None:
    """Delete a stored event (404 when there is none)."""
    if not app.store.delete_event(event_id):
        raise NotFound(f"找不到对接活动「{event_id}」")


def start_shortlist(state: ServiceState, user: User, event_id: str, *, k: int = 20, m: int = 3,
                    meeting_cap: int = 4) -> JSONObject:
    """Queue the event's shortlist job (the event must exist); returns the job's view."""
    event = get(state.application, event_id)
    return jobs.start(state, user, "event_shortlist",
                      {"event_id": event.id, "k": k, "m": m, "meeting_cap": meeting_cap})


def start_or_running(state: ServiceState, user: User, event_id: str, m: int) -> str:
    """The id of the shortlist job now queued, or of the one already running."""
    try:
        return str(start_shortlist(state, user, event_id, m=m)["id"])
    except ActiveJobExists as exc:
        return exc.job_id


def latest_shortlist(app: Application, event_id: str) -> Job | None:
    """The newest succeeded shortlist job of the event whose files are still there."""
    for job in app.store.jobs(kind="event_shortlist", status="succeeded", limit=200):
        if job.params.get("event_id") == event_id and \
                shortlist_file(app, job.id, "csv", False).exists():
            return job
    return None


def export(app: Application, user: User, event_id: str, fmt: str,
           contacts: bool = True) -> FileDownload:
    """The event's newest shortlist as a file (contacts only for allowed roles).

    Raises:
        Invalid: an unknown format (422).
        Conflict: no shortlist has been built for the event yet (409).
    """
    if fmt not in MEDIA:
        raise Invalid(f"format 须为 {'、'.join(MEDIA)}")
    event = get(app, event_id)
    job = latest_shortlist(app, event.id)
    if job is None:
        raise Conflict(f"对接活动「{event.id}」还没有生成名单：请先 POST "
                       f"/api/v1/events/{event.id}/shortlist，任务完成后再下载")
    include = contacts and may_export_contacts(user.role, "events.export")
    return FileDownload(shortlist_file(app, job.id, fmt, include), MEDIA[fmt],
                        f"{event.id}-shortlist.{fmt}")


@dataclass
class EventPage:
    """What the organiser's page shows."""

    events: list[JSONObject]
    result: JSONObject | None
    job: JSONObject | None


def page(state: ServiceState, user: User, event_id: str, job_id: str | None) -> EventPage:
    """The events, and the shortlist job ``job_id`` (when the caller may see it) or else the
    newest shortlist of ``event_id``."""
    app = state.application
    items: list[JSONObject] = [SAMPLE_EVENT.model_dump(mode="json"), *app.store.list_events()]
    shown = jobs.visible(state, user, job_id) if job_id else None
    if shown is None:
        shown = latest_shortlist(app, event_id)
    result: JSONObject | None = (shown.result if shown is not None
                                 and shown.status == "succeeded" else None)
    return EventPage(items, result, jobs.view(shown) if shown is not None else None)


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
