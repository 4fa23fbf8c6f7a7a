"""Request and response schemas of the API that are not domain records."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _json_int(value: Any) -> Any:
    """JSON integers only: no booleans, no strings (1.0 is an integer in JSON Schema)."""
    if isinstance(value, bool | str):
        raise ValueError("应为整数")
    return value


def _json_number(value: Any) -> Any:
    """JSON numbers only: no booleans, no strings."""
    if isinstance(value, bool | str):
        raise ValueError("应为数字")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_int)]
"""An ``int`` field that takes what JSON Schema calls an integer, and nothing else."""
JsonFloat = Annotated[float, BeforeValidator(_json_number)]
"""A ``float`` field that takes JSON numbers only."""


class PairingRunIn(BaseModel):
    """``POST /pairing-runs``."""

    model_config = ConfigDict(extra="forbid")
    solver: Literal["flow", "fair", "greedy"] = "flow"
    max_load: JsonInt = Field(3, ge=1, le=50, description="每位专家最多结对的需求数")
    demand: JsonInt = Field(1, ge=1, le=10, description="每个需求的专家数")
    min_score: JsonFloat = Field(0.0, ge=0.0)
    k: JsonInt = Field(20, ge=1, le=200, description="每个需求的候选数")


class DecisionIn(BaseModel):
    """``POST /suggestions/{id}/decision``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    status: Literal["approved", "rejected", "deferred", "approve", "reject", "defer"] = Field(
        description="approved / rejected / deferred（同意 / 驳回 / 暂缓）")
    reason: str = Field(min_length=1, max_length=2000, description="理由（必填）")
    version: JsonInt = Field(ge=1, description="看到的版本号（防止并发覆盖）")


class ShortlistIn(BaseModel):
    """``POST /events/{id}/shortlist``."""

    model_config = ConfigDict(extra="forbid")
    k: JsonInt = Field(20, ge=1, le=100)
    m: JsonInt = Field(3, ge=1, le=20, description="每家企业的强候选数")
    meeting_cap: JsonInt = Field(4, ge=1, le=20, description="每位人才的洽谈场次上限")


class JobOut(BaseModel):
    """A background job: ``GET /jobs/{id}``, and the body of every 202 answer."""

    id: str = Field(description="任务编号")
    kind: Literal["pairing", "demand_map", "event_shortlist", "index_update", "import"] = Field(
        description="任务类型")
    kind_label: str = Field(description="任务类型（中文）")
    status: Literal["queued", "running", "succeeded", "failed"] = Field(
        description="queued 排队中 / running 运行中 / succeeded 已完成 / failed 失败")
    progress: float = Field(ge=0.0, le=1.0, description="进度 0..1")
    message: str = Field(description="当前步骤")
    params: dict[str, Any] = Field(description="提交的参数")
    result: dict[str, Any] | None = Field(None, description="结果摘要（完成后）")
    error: str | None = Field(None, description="失败原因")
    started_by: str | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    links: dict[str, str] = Field(description="self：本任务；result：结果（完成后）")


class JobList(BaseModel):
    """``GET /jobs``."""

    items: list[JobOut]


class Pending(BaseModel):
    """A result that is not computed yet: 202 with the job computing it."""

    status: Literal["computing"] = "computing"
    message: str
    job: JobOut


class FieldError(BaseModel):
    """One invalid field of a request."""

    field: str = Field(description="字段（点号分隔的路径）")
    message: str = Field(description="原因")


class ErrorOut(BaseModel):
    """Every error answer: a code, a Chinese message that says what to fix, and details
    (the invalid fields for 422; the active job for a 409 on a job kind)."""

    error: str = Field(description="错误代码：bad_request / unauthorized / forbidden / "
                       "not_found / conflict / too_large / invalid / unavailable …")
    message: str = Field(description="中文说明")
    detail: list[FieldError] | dict[str, Any] | None = Field(None, description="细节")
