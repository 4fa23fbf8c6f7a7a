"""Saved shortlist versions of a matchmaking event, and the organiser's page.

Each succeeded ``event_shortlist`` job is a **version**: its parameters (the job's params:
``m``, ``meeting_cap``, ``k``, ``strong``), its summary (the job's result) and its export files
(``<jobs>/<job id>/shortlist[-contacts].{xlsx,csv,html}``), written once by the job. A
download names the version and is served from those files — nothing is recomputed, so the
same version downloads byte-identically, with the parameters shown on the page. The newest
:data:`api.jobs.tasks.KEEP_SHORTLIST_VERSIONS` versions of an event keep their files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from api.jobs.tasks import shortlist_file
from api.service.authz import may_export_contacts
from api.services import events, jobs
from api.services.errors import Conflict, Invalid, NotFound
from api.services.types import FileDownload, JSONObject, User
from data.store.jobs import Job

if TYPE_CHECKING:
    from api.application import Application
    from api.service.state import ServiceState

KIND = "event_shortlist"
CONTROLS = {"m": "每家企业强候选数", "meeting_cap": "每人对接场次上限", "strong": "强候选阈值",
            "k": "每个需求候选数", "capacity": "名单容量", "time_slots": "对接时段"}
"""Parameter → the label of its control (the generate form, or the event form). Warnings
that suggest a parameter name it by this label (see :mod:`matching.shortlist`)."""
DEFAULTS = {"m": 3, "meeting_cap": 4, "k": 20}


def _version(job: Job, number: int) -> JSONObject:
    params = dict(job.params)
    result = job.result or {}
    return {"id": job.id, "number": number, "event_id": str(params.get("event_id", "")),
            "created_at": job.created_at.isoformat(timespec="seconds"),
            "m": int(params.get("m", DEFAULTS["m"])),
            "meeting_cap": int(params.get("meeting_cap", DEFAULTS["meeting_cap"])),
            "k": int(params.get("k", DEFAULTS["k"])),
            "strong": result.get("strong"), "strong_given": params.get("strong"),
            "talents": result.get("talents"), "meetings": result.get("meetings"),
            "unplaced": result.get("unplaced"), "started_by": job.started_by}


def versions(app: Application, event_id: str) -> list[JSONObject]:
    """The event's saved versions, newest first (numbered from the oldest, 1 up)."""
    found = [job for job in app.store.jobs(kind=KIND, status="succeeded", limit=200)
             if job.params.get("event_id") == event_id
             and shortlist_file(app, job.id, "csv", False).exists()]
    total = len(found)
    return [_version(job, total - i) for i, job in enumerate(found)]


def _job_of(app: Application, event_id: str, version: str) -> Job:
    job = app.store.get_job(version)
    if job is None or job.kind != KIND or job.params.get("event_id") != event_id \
            or job.status != "succeeded":
        raise NotFound(f"对接活动「{event_id}」没有名单版本「{version}」")
    if not shortlist_file(app, job.id, "csv", False).exists():
        raise NotFound(f"名单版本「{version}」的文件已清理（只保留最近的版本）：请重新生成")
    return job


def export_version(app: Application, user: User, event_id: str, version: str | None,
                   fmt: str, contacts: bool = True) -> FileDownload:
    """The file of one saved version (None: the newest) as written by its job.

    Raises:
        Invalid: an unknown format (422).
        NotFound: no such version of this event, or its files were cleaned up (404).
        Conflict: the event has no version yet (409).
    """
    if fmt not in events.MEDIA:
        raise Invalid(f"format 须为 {'、'.join(events.MEDIA)}")
    event = events.get(app, event_id, user)
    if version is None:
        newest = versions(app, event.id)
        if not newest:
            raise Conflict(f"对接活动「{event.id}」还没有生成名单：请先生成，任务完成后再下载")
        version = str(newest[0]["id"])
    job = _job_of(app, event.id, version)
    include = contacts and may_export_contacts(user.role, "events.export")
    suffix = "" if include else "-无联系方式"
    name = "签到表" if fmt == "html" else "名单"
    return FileDownload(shortlist_file(app, job.id, fmt, include), events.MEDIA[fmt],
                        f"{event.id}-{name}-{job.id}{suffix}.{fmt}")


@dataclass
class OrganiserPage:
    """What the organiser's page shows: the events, the chosen one, its versions, the
    version shown (with its parameters and summary), and the running job."""

    events: list[JSONObject]
    event: JSONObject
    versions: list[JSONObject]
    shown: JSONObject | None
    result: JSONObject | None
    job: JSONObject | None

    @property
    def running(self) -> bool:
        """Whether a shortlist job of this page is queued or running (button disabled)."""
        return self.job is not None and self.job.get("status") in ("queued", "running")


def page(state: ServiceState, user: User, event_id: str, version: str | None,
         job_id: str | None) -> OrganiserPage:
    """The organiser's page: ``version`` (default: the job ``job_id`` once it succeeded, else
    the newest version) with its summary; the job ``job_id`` or the active shortlist job."""
    app = state.application
    items: list[JSONObject] = [e for e in events.listing(app, user)["items"]  # type: ignore[union-attr]
                               if isinstance(e, dict)]
    event = events.get(app, event_id, user).model_dump(mode="json")
    saved = versions(app, event_id)
    job = jobs.visible(state, user, job_id) if job_id else None
    if job is None or job.kind != KIND:
        active = app.store.active_job(KIND)
        job = active if active is not None and jobs.may_see(user, active) else job
    wanted = version or (job.id if job is not None and job.status == "succeeded" else None)
    shown = next((v for v in saved if v["id"] == wanted), saved[0] if saved else None)
    result: JSONObject | None = None
    if shown is not None:
        source = app.store.get_job(str(shown["id"]))
        result = source.result if source is not None else None
    return OrganiserPage(items, event, saved, shown, result,
                         jobs.view(job) if job is not None else None)


def start(state: ServiceState, user: User, event_id: str, *, m: int, meeting_cap: int,
          k: int = 20, strong: float | None = None) -> str:
    """Queue a shortlist version (the id of the job now queued, or of the one running)."""
    from data.store.errors import ActiveJobExists

    event = events.get(state.application, event_id, user)
    params: JSONObject = events.shortlist_params(
        user, event, {"event_id": event.id, "k": k, "m": m, "meeting_cap": meeting_cap})
    if strong is not None:
        params["strong"] = strong
    try:
        return str(jobs.start(state, user, KIND, params)["id"])
    except ActiveJobExists as exc:
        return exc.job_id
