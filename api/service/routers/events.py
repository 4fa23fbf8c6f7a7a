"""Matchmaking events: minimal CRUD, the shortlist (a background job), and its exports.

The built-in sample event (``EV-sample``) is always available. ``POST …/shortlist`` answers
202 with a job; the job writes the exports (xlsx, csv, html; with and without contacts) and
``GET …/export`` serves the newest. Exports carry contact fields only for the roles
:data:`api.service.authz.CONTACT_EXPORT_ROLES` allows.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Response
from fastapi.responses import FileResponse

from api.events import SAMPLE_EVENT, find_event
from api.jobs.tasks import shortlist_file
from api.service.authz import may_export_contacts, require
from api.service.deps import get_state
from api.service.routers import jobs
from api.service.schemas import ErrorOut, JobOut, ShortlistIn
from data.records import Event
from data.store.jobs import Job
from data.store.users import User

router = APIRouter(prefix="/events", tags=["对接活动"])

MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}


def get_event(state: Any, event_id: str) -> Event:
    """The stored event, or the sample event for ``EV-sample``; 404 otherwise."""
    try:
        return find_event(state.application.store, event_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc


def start_shortlist(state: Any, user: User, event_id: str,
                    body: ShortlistIn | None = None) -> Job:
    """Queue the event's shortlist job (the event must exist); returns the job."""
    body = body or ShortlistIn()
    event = get_event(state, event_id)
    return jobs.submit(state, user, "event_shortlist", {"event_id": event.id, **body.model_dump()})


def latest_shortlist(state: Any, event_id: str) -> Job | None:
    """The newest succeeded shortlist job of the event whose files are still there."""
    app = state.application
    for job in app.store.jobs(kind="event_shortlist", status="succeeded", limit=200):
        if job.params.get("event_id") == event_id and \
                shortlist_file(app, job.id, "csv", False).exists():
            return job
    return None


def export(state: Any, user: User, event_id: str, fmt: str,
           contacts: bool = True) -> FileResponse:
    """The event's newest shortlist as a file download (contacts only for allowed roles).

    Raises:
        HTTPException: 409 when no shortlist has been built for the event yet.
    """
    if fmt not in MEDIA:
        raise HTTPException(422, f"format 须为 {'、'.join(MEDIA)}")
    event = get_event(state, event_id)
    job = latest_shortlist(state, event.id)
    if job is None:
        raise HTTPException(409, f"对接活动「{event.id}」还没有生成名单：请先 POST "
                            f"/api/v1/events/{event.id}/shortlist，任务完成后再下载")
    include = contacts and may_export_contacts(user.role, "events.export")
    path = shortlist_file(state.application, job.id, fmt, include)
    return FileResponse(path, media_type=MEDIA[fmt], filename=f"{event.id}-shortlist.{fmt}",
                        headers={"Cache-Control": "no-store"})


@router.get("", summary="对接活动列表")
def list_events(user: User = Depends(require("events.read")),
                state: Any = Depends(get_state)) -> dict[str, Any]:
    """Stored events and the sample event."""
    items = state.application.store.list_events()
    if not any(e["id"] == SAMPLE_EVENT.id for e in items):
        items.insert(0, SAMPLE_EVENT.model_dump(mode="json"))
    return {"items": items}


@router.get("/{event_id}", summary="查看对接活动")
def read_event(event_id: str, user: User = Depends(require("events.read")),
               state: Any = Depends(get_state)) -> dict[str, Any]:
    """One event."""
    return get_event(state, event_id).model_dump(mode="json")


@router.post("", status_code=201, summary="新建或替换对接活动")
def put_event(event: Event = Body(...), user: User = Depends(require("events.write")),
              state: Any = Depends(get_state)) -> dict[str, Any]:
    """Store an event (same id: replaced)."""
    state.application.store.put_event(event.model_dump(mode="json"))
    return event.model_dump(mode="json")


@router.delete("/{event_id}", status_code=204, summary="删除对接活动")
def delete_event(event_id: str, user: User = Depends(require("events.write")),
                 state: Any = Depends(get_state)) -> Response:
    """Delete a stored event."""
    if not state.application.store.delete_event(event_id):
        raise HTTPException(404, f"找不到对接活动「{event_id}」")
    return Response(status_code=204)


@router.post("/{event_id}/shortlist", status_code=202, response_model=JobOut,
             summary="生成活动名单与日程（后台任务，返回 202 与任务编号）")
def post_shortlist(event_id: str, response: Response, body: ShortlistIn | None = None,
                   user: User = Depends(require("events.shortlist")),
                   state: Any = Depends(get_state)) -> dict[str, Any]:
    """Queue the shortlist and schedule; the job's result is the summary, and the exports
    (``GET /events/{id}/export``) serve the newest one."""
    return jobs.accepted(response, start_shortlist(state, user, event_id, body))


@router.get("/{event_id}/export", summary="下载活动名单（xlsx / csv / html；先生成名单）",
            response_class=FileResponse, responses={200: {
                "description": "名单文件", "content": {m.split(";")[0]: {} for m in MEDIA.values()}},
                409: {"model": ErrorOut, "description": "还没有生成名单：先 POST …/shortlist"}})
def get_export(event_id: str,
               format: Literal["xlsx", "csv", "html"] = Query("xlsx", description="xlsx / csv / html"),
               contacts: bool = Query(True, description="含联系方式（仅限有权限的角色）"),
               user: User = Depends(require("events.export")),
               state: Any = Depends(get_state)) -> FileResponse:
    """The newest shortlist's file (409 before the first shortlist job has succeeded)."""
    return export(state, user, event_id, format, contacts)
