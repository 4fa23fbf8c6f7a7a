"""Background jobs: ``GET /jobs`` and ``GET /jobs/{id}`` (status, progress, result), and the
helpers the other routers use to answer 202 with a job.

A caller sees the jobs it started; admins see every job, and demand-map jobs are visible to
every role (the map is). Another caller's job id answers 404, as an unknown one does.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from api.jobs import KINDS
from api.service.authz import require
from api.service.deps import get_state
from api.service.schemas import JobList, JobOut
from data.store.jobs import Job
from data.store.users import User

router = APIRouter(prefix="/jobs", tags=["后台任务"])

PUBLIC_KINDS = frozenset({"demand_map"})
"""Job kinds every role may look at."""


def may_see(user: User, job: Job) -> bool:
    """Whether ``user`` may look at ``job``."""
    return user.role == "admin" or job.kind in PUBLIC_KINDS or job.started_by == user.username


def result_link(job: Job) -> str | None:
    """Where the job's result can be read (None when it has no separate resource)."""
    result = job.result or {}
    if job.status != "succeeded":
        return None
    if job.kind == "pairing" and result.get("run_id"):
        return f"/api/v1/pairing-runs/{result['run_id']}"
    if job.kind == "demand_map":
        query: dict[str, Any] = {"by": ",".join(job.params.get("by") or ["chain", "county"])}
        if job.params.get("threshold") is not None:
            query["threshold"] = job.params["threshold"]
        return f"/api/v1/demand-map?{urlencode(query)}"
    if job.kind == "event_shortlist":
        return f"/api/v1/events/{job.params.get('event_id')}/export?format=xlsx"
    return None


def job_out(job: Job) -> dict[str, Any]:
    """The API view of a job (:class:`api.service.schemas.JobOut`)."""
    data = job.to_dict()
    data.pop("worker", None)
    data["kind_label"] = KINDS.get(job.kind, job.kind)
    links = {"self": f"/api/v1/jobs/{job.id}"}
    link = result_link(job)
    if link:
        links["result"] = link
    data["links"] = links
    return data


def accepted(response: Response, job: Job) -> dict[str, Any]:
    """Set the 202 headers (``Location`` of the job, ``Retry-After``); returns the job view."""
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    response.headers["Retry-After"] = "2"
    return job_out(job)


def submit(state: Any, user: User, kind: str, params: dict[str, Any]) -> Job:
    """Queue a job for ``user`` (ActiveJobExists → 409 when one of the kind is active)."""
    job: Job = state.jobs.submit(kind, params, started_by=user.username)
    return job


@router.get("", response_model=JobList, summary="后台任务列表（本人提交的；管理员可见全部）")
def list_jobs(kind: Literal["pairing", "demand_map", "event_shortlist", "index_update", "import"]
              | None = Query(None, description="任务类型"),
              limit: int = Query(20, ge=1, le=200),
              user: User = Depends(require("jobs.read")),
              state: Any = Depends(get_state)) -> dict[str, Any]:
    """Recent jobs the caller may see, newest first."""
    if kind is not None and kind not in KINDS:
        raise HTTPException(422, f"未知任务类型 kind「{kind}」；可选：{'、'.join(KINDS)}")
    store = state.application.store
    mine = None if user.role == "admin" else user.username
    jobs = store.jobs(kind=kind, started_by=mine, limit=limit)
    return {"items": [job_out(j) for j in jobs if may_see(user, j)]}


@router.get("/{job_id}", response_model=JobOut, summary="后台任务状态与进度")
def get_job(job_id: str, user: User = Depends(require("jobs.read")),
            state: Any = Depends(get_state)) -> dict[str, Any]:
    """Status (queued / running / succeeded / failed), progress 0..1, result or error."""
    job = state.jobs.get(job_id)
    if job is None or not may_see(user, job):
        raise HTTPException(404, f"找不到后台任务「{job_id}」：请检查任务编号")
    return job_out(job)
