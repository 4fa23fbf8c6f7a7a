"""Request and response schemas of the API that are not domain records."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from data.records import Suggestion


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


MAX_OFFSET = 1_000_000_000
"""The largest paging offset a list endpoint takes (larger ones are a 422, not a database
integer overflow)."""

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


# -- responses ------------------------------------------------------------------------------
# Every route declares its response model. They are open (``extra="allow"``): a field the
# schema does not list is still sent; routes use ``response_model_exclude_unset`` so a field
# the answer does not carry is not added either. The masked views (an enterprise's) leave
# fields out, so record fields are optional here.


class Open(BaseModel):
    """Base of the response schemas: the listed fields are checked, others pass through."""

    model_config = ConfigDict(extra="allow")


class UserOut(Open):
    """``GET /me``: the caller's account (no secrets)."""

    id: str
    username: str
    role: Literal["admin", "reviewer", "enterprise", "organizer"]
    work_group: str | None = None
    enterprise_id: str | None = None
    disabled: bool = False
    created_at: str | None = None
    city: str | None = Field(None, description="所属城市：只能看到该城市的数据；空：不限城市（省级）")


class MatchOut(Open):
    """One ranked talent of a need, with its explanation."""

    rank: int
    talent_id: str
    name: str | None = None
    organisation: str | None = None
    title: str | None = None
    score: float
    explanation: str = ""
    probability: float | None = None
    fused: float | None = None
    contributions: dict[str, float] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)


class DroppedOut(Open):
    """A talent (or need) left out by a hard rule, and why."""

    reasons: list[str] = Field(default_factory=list)


class NeedMatches(Open):
    """``GET /needs/{id}/matches``: talents for a need, ranked and explained."""

    need: dict[str, Any]
    scorer: str | None = None
    strength: str | None = None
    strength_zh: str | None = None
    best_probability: float | None = None
    top10_chance: float | None = None
    matches: list[MatchOut]
    dropped: list[DroppedOut] = Field(default_factory=list)
    masked: bool | None = Field(None, description="企业账号：人才单位与联系方式已隐藏")


class OpportunityOut(Open):
    """A ranked need or 归根 project for a talent."""

    rank: int
    kind: str
    id: str
    title: str | None = None
    score: float
    explanation: str = ""
    flags: list[str] = Field(default_factory=list)


class TalentMatches(Open):
    """``GET /talents/{id}/matches``: needs and 归根 projects for a talent."""

    talent: dict[str, Any]
    needs: list[OpportunityOut]
    projects: list[OpportunityOut]
    dropped: list[DroppedOut] = Field(default_factory=list)


class LeadsOut(Open):
    """``GET /challenges/{id}/leads``: eligible leads and a proposed team."""

    challenge: dict[str, Any]
    leads: list[dict[str, Any]]
    team: list[dict[str, Any]]
    required_terms: list[str] = Field(default_factory=list)
    covered_terms: list[str] = Field(default_factory=list)
    missing_terms: list[str] = Field(default_factory=list)


class PairOut(Open):
    """One proposed pair of a pairing run."""

    need_id: str
    talent_id: str
    score: float
    status: str | None = None
    work_group: str | None = None
    explanation: str | None = None


class PairingRunOut(Open):
    """``GET /pairing-runs/{id}``: a stored run with its suggestions."""

    run_id: str
    solver: str
    objective: float | None = None
    partial: bool | None = None
    started_by: str | None = None
    created_at: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    duration_s: float | None = None
    messages: list[str] = Field(default_factory=list)
    alternates: dict[str, Any] = Field(default_factory=dict)
    pairs: list[PairOut]


class SuggestionOut(Suggestion):
    """A suggestion (推荐) in the review queue, with its need's title and talent's name."""

    model_config = ConfigDict(extra="allow")
    need_title: str | None = None
    chain: str | None = None
    county: str | None = None
    talent_name: str | None = None


class SuggestionPage(BaseModel):
    """``GET /suggestions``: one page of the review queue."""

    total: int
    limit: int
    offset: int
    items: list[SuggestionOut]


class AuditOut(Open):
    """One decision of the audit trail: who, when, from, to, why."""

    id: str | None = None
    suggestion_id: str | None = None
    actor: str | None = None
    reason: str | None = None


class AuditList(BaseModel):
    """``GET /audit``: decisions, newest first."""

    items: list[AuditOut]


class SuggestionDetail(SuggestionOut):
    """``GET /suggestions/{id}``: one suggestion with its decisions."""

    decisions: list[AuditOut] = Field(default_factory=list)


class EventList(BaseModel):
    """``GET /events``: stored events and the sample event."""

    items: list[dict[str, Any]]


class ImportReportOut(Open):
    """``POST /import/{entity}`` (small files): the row-level report of the import."""

    entity: str
    path: str | None = None
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[dict[str, Any]] = Field(default_factory=list)


class ImportJournal(BaseModel):
    """``GET /imports``: the latest imports and the ones that did not complete."""

    items: list[dict[str, Any]]
    incomplete: list[dict[str, Any]]


class DemandMapOut(Open):
    """``GET /demand-map``: the saved map as the caller's role may see it."""

    by: list[str]
    cells: list[dict[str, Any]]
    totals: dict[str, Any] = Field(default_factory=dict)
    scarce: list[dict[str, Any]] = Field(default_factory=list)
    high_end: list[dict[str, Any]] = Field(default_factory=list)


class Health(BaseModel):
    """``GET /healthz``."""

    status: Literal["ok"]
