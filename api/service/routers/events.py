"""Matchmaking events: minimal CRUD, the shortlist (a background job), and its exports.

The built-in sample event (``EV-sample``) is always available. ``POST …/shortlist`` answers
202 with a job; the job writes the exports (xlsx, csv, html; with and without contacts) and
``GET …/export`` serves the newest (see :mod:`api.services.events`).
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Response
from fastapi.responses import FileResponse

from api.service.authz import require
from api.service.deps import StateDep, User
from api.service.http import accepted, download
from api.service.schemas import ErrorOut, EventList, JobOut, ShortlistIn
from api.services import event_versions, events
from api.services.types import JSONObject
from data.records import Event

router = APIRouter(prefix="/events", tags=["对接活动"])
Reader = Annotated[User, Depends(require("events.read"))]
Writer = Annotated[User, Depends(require("events.write"))]


@router.get("", summary="对接活动列表", response_model=EventList)
def list_events(user: Reader, state: StateDep) -> JSONObject:
    """Stored events and the sample event."""
    return events.listing(state.application, user)


@router.get("/{event_id}", summary="查看对接活动", response_model=Event)
def read_event(event_id: str, user: Reader, state: StateDep) -> Event:
    """One event."""
    return events.get(state.application, event_id, user)


@router.post("", status_code=201, summary="新建或替换对接活动", response_model=Event)
def put_event(user: Writer, state: StateDep, event: Event = Body(...)) -> JSONObject:
    """Store an event (same id: replaced)."""
    return events.put(state.application, event, user)


@router.delete("/{event_id}", status_code=204, summary="删除对接活动", response_model=None,
               response_class=Response, responses={204: {"description": "已删除"}})
def delete_event(event_id: str, user: Writer, state: StateDep) -> Response:
    """Delete a stored event."""
    events.delete(state.application, event_id, user)
    return Response(status_code=204)


@router.post("/{event_id}/shortlist", status_code=202, response_model=JobOut,
             summary="生成活动名单与日程（后台任务，返回 202 与任务编号）")
def post_shortlist(event_id: str, response: Response,
                   user: Annotated[User, Depends(require("events.shortlist"))],
                   state: StateDep, body: ShortlistIn | None = None) -> JSONObject:
    """Queue the shortlist and schedule; the job's result is the summary, and the exports
    (``GET /events/{id}/export``) serve the newest one."""
    body = body or ShortlistIn()
    return accepted(response, events.start_shortlist(state, user, event_id, k=body.k, m=body.m,
                                                     meeting_cap=body.meeting_cap))


@router.get("/{event_id}/export", summary="下载活动名单（xlsx / csv / html；先生成名单）",
            response_class=FileResponse, response_model=None, responses={200: {
                "description": "名单文件",
                "content": {m.split(";")[0]: {} for m in events.MEDIA.values()}},
                404: {"model": ErrorOut, "description": "没有该活动或名单版本"},
                409: {"model": ErrorOut, "description": "还没有生成名单：先 POST …/shortlist"}})
def get_export(event_id: str, user: Annotated[User, Depends(require("events.export"))],
               state: StateDep,
               format: Literal["xlsx", "csv", "html"] = Query("xlsx", description="xlsx / csv / html"),
               contacts: bool = Query(True, description="含联系方式（仅限有权限的角色）"),
               version: str | None = Query(None, max_length=64,
                                           description="名单版本（生成任务编号；默认最新版本）"),
               ) -> FileResponse:
    """A saved shortlist version's file, as its job wrote it (default: the newest version;
    409 before the first shortlist job has succeeded, 404 for an unknown version)."""
    return download(event_versions.export_version(state.application, user, event_id, version,
                                                  format, contacts),
                    no_store=True, inline=format == "html")
