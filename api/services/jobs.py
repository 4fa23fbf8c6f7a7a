"""Background jobs as callers see them: start one, list them, look at one.

A caller sees the jobs it started; admins see every job, and demand-map jobs are visible to
every role (the map is). A city-scoped caller sees, besides its own, only the jobs of its
city (a job started by a city-scoped account carries ``params.city``). Another caller's job
id answers 404, as an unknown one does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from api.jobs import KINDS
from api.services.errors import Invalid, NotFound
from api.services.types import JSON, JSONObject, User
from data.store.jobs import Job

if TYPE_CHECKING:
    from api.service.state import ServiceState

PUBLIC_KINDS = frozenset({"demand_map"})
"""Job kinds every role may look at."""


def may_see(user: User, job: Job) -> bool:
    """Whether ``user`` may look at ``job``."""
    if job.started_by == user.username:
        return True
    if user.city and job.params.get("city") != user.city:
        return False  # another city's job, or a province-wide one
    return user.role == "admin" or job.kind in PUBLIC_KINDS


def result_link(job: Job) -> str | None:
    """Where the job's result can be read (None when it has no separate resource)."""
    result = job.result or {}
    if job.status != "succeeded":
        return None
    if job.kind == "pairing" and result.get("run_id"):
        return f"/api/v1/pairing-runs/{result['run_id']}"
    if job.kind == "demand_map":
        query: dict[str, str] = {"by": ",".join(job.params.get("by") or ["chain", "county"])}
        if job.params.get("threshold") is not None:
            query["threshold"] = str(job.params["threshold"])
        return f"/api/v1/demand-map?{urlencode(query)}"
    if job.kind == "event_shortlist":
        return (f"/api/v1/events/{job.params.get('event_id')}/export?format=xlsx"
                f"&version={job.id}")
    return None


def view(job: Job) -> JSONObject:
    """The caller's view of a job (:class:`api.service.schemas.JobOut`)."""
    data: JSONObject = job.to_dict()
    data.pop("worker", None)
    data["kind_label"] = KINDS.get(job.kind, job.kind)
    links: dict[str, JSON] = {"self": f"/api/v1/jobs/{job.id}"}
    link = result_link(job)
    if link:
        links["result"] = link
    data["links"] = links
    return data


def submit(state: ServiceState, user: User, kind: str, params: JSONObject) -> Job:
    """Queue a job for ``user``.

    Raises:
        ActiveJobExists: a job of the kind is queued or running (409, with its id).
    """
    return state.jobs.submit(kind, params, started_by=user.username)


def start(state: ServiceState, user: User, kind: str, params: JSONObject) -> JSONObject:
    """:func:`submit`, answering the job's view."""
    return view(submit(state, user, kind, params))


def listing(state: ServiceState, user: User, kind: str | None, limit: int) -> JSONObject:
    """Recent jobs the caller may see, newest first: ``{"items": [...]}``."""
    if kind is not None and kind not in KINDS:
        raise Invalid(f"未知任务类型 kind「{kind}」；可选：{'、'.join(KINDS)}")
    mine = None if user.role == "admin" else user.username
    jobs = state.application.store.jobs(kind=kind, started_by=mine, limit=limit)
    return {"items": [view(j) for j in jobs if may_see(user, j)]}


def visible(state: ServiceState, user: User, job_id: str) -> Job | None:
    """The job ``job_id`` when ``user`` may see it, else None."""
    job = state.jobs.get(job_id)
    return job if job is not None and may_see(user, job) else None


def get(state: ServiceState, user: User, job_id: str) -> JSONObject:
    """A job's status, progress and result or error (404 when the caller may not see it)."""
    job = visible(state, user, job_id)
    if job is None:
        raise NotFound(f"找不到后台任务「{job_id}」：请检查任务编号")
    return view(job)
