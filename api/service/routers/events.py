"""Matchmaking events: minimal CRUD, the shortlist, and its exports (xlsx, csv, html).

The built-in sample event (``EV-sample``) is always available. Exports carry contact fields
only for the roles :data:`api.service.authz.CONTACT_EXPORT_ROLES` allows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.events import SAMPLE_EVENT
from api.service.authz import may_export_contacts, require
from api.service.deps import get_state
from api.service.schemas import ShortlistIn
from data.records import Event
from data.store.users import User

router = APIRouter(prefix="/events", tags=["对接活动"])

MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}


def get_event(state: Any, event_id: str) -> Event:
    """The stored event, or the sample event for ``EV-sample``; 404 otherwise."""
    data = state.application.store.get_event(event_id)
    if data is not None:
        return Event.model_validate(data)
    if event_id == SAMPLE_EVENT.id:
        return SAMPLE_EVENT
    raise HTTPException(404, f"找不到对接活动「{event_id}」：可用 GET /api/v1/events 查看")


def shortlist(state: Any, event_id: str, body: ShortlistIn | None = None) -> dict[str, Any]:
    """The event's shortlist summary (no contacts)."""
    body = body or ShortlistIn()
    return state.workflows.event_shortlist(
        get_event(state, event_id), k=body.k, m=body.m, meeting_cap=body.meeting_cap)


def export(state: Any, user: User, event_id: str, fmt: str,
           contacts: bool = True) -> FileResponse:
    """The event's shortlist as a file download (contacts only for allowed roles)."""
    if fmt not in MEDIA:
        raise HTTPException(422, f"format 须为 {'、'.join(MEDIA)}")
    event = get_event(state, event_id)
    folder = Path(tempfile.mkdtemp(prefix="tm-export-"))
    out = folder / f"{event.id}-shortlist.{fmt}"
    include = contacts and may_export_contacts(user.role, "events.export")
    state.workflows.event_shortlist(event, fmt=fmt, out=out, include_contacts=include)
    import shutil

    return FileResponse(out, media_type=MEDIA[fmt], filename=out.name,
                        background=BackgroundTask(shutil.rmtree, folder, True))


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
def put_event(body: dict[str, Any] = Body(...), user: User = Depends(require("events.write")),
              state: Any = Depends(get_state)) -> dict[str, Any]:
    """Store an event (same id: replaced)."""
    event = Event.model_validate(body)
    state.application.store.put_event(event.model_dump(mode="json"))
    return event.model_dump(mode="json")


@router.delete("/{event_id}", status_code=204, summary="删除对接活动")
def delete_event(event_id: str, user: User = Depends(require("events.write")),
                 state: Any = Depends(get_state)) -> Response:
    """Delete a stored event."""
    if not state.application.store.delete_event(event_id):
        raise HTTPException(404, f"找不到对接活动「{event_id}」")
    return Response(status_code=204)


@router.post("/{event_id}/shortlist", summary="生成活动名单与日程")
def post_shortlist(event_id: str, body: ShortlistIn | None = None,
                   user: User = Depends(require("events.shortlist")),
                   state: Any = Depends(get_state)) -> dict[str, Any]:
    """The shortlist and schedule summary."""
    return shortlist(state, event_id, body)


@router.get("/{event_id}/export", summary="下载活动名单（xlsx / csv / html）")
def get_export(event_id: str, format: str = Query("xlsx", description="xlsx / csv / html"),
               contacts: bool = Query(True, description="含联系方式（仅限有权限的角色）"),
               user: User = Depends(require("events.export")),
               state: Any = Depends(get_state)) -> FileResponse:
    """The shortlist file."""
    return export(state, user, event_id, format, contacts)
