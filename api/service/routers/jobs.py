"""Background jobs: ``GET /jobs`` and ``GET /jobs/{id}`` (status, progress, result).

Who sees which job is decided in :mod:`api.services.jobs`.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from api.service.authz import require
from api.service.deps import StateDep, User
from api.service.schemas import JobList, JobOut
from api.services import jobs
from api.services.types import JSONObject

router = APIRouter(prefix="/jobs", tags=["后台任务"])
Reader = Annotated[User, Depends(require("jobs.read"))]


@router.get("", response_model=JobList, summary="后台任务列表（本人提交的；管理员可见全部）")
def list_jobs(user: Reader, state: StateDep,
              kind: Literal["pairing", "demand_map", "event_shortlist", "index_update", "import"]
              | None = Query(None, description="任务类型"),
              limit: int = Query(20, ge=1, le=200)) -> JSONObject:
    """Recent jobs the caller may see, newest first."""
    return jobs.listing(state, user, kind, limit)


@router.get("/{job_id}", response_model=JobOut, summary="后台任务状态与进度")
def get_job(job_id: str, user: Reader, state: StateDep) -> JSONObject:
    """Status (queued / running / succeeded / failed), progress 0..1, result or error."""
    return jobs.get(state, user, job_id)
