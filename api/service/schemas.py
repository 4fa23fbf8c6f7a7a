"""Request and response schemas of the API that are not domain records."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PairingRunIn(BaseModel):
    """``POST /pairing-runs``."""

    model_config = ConfigDict(extra="forbid")
    solver: Literal["flow", "fair", "greedy"] = "flow"
    max_load: int = Field(3, ge=1, le=50, description="每位专家最多结对的需求数")
    demand: int = Field(1, ge=1, le=10, description="每个需求的专家数")
    min_score: float = Field(0.0, ge=0.0)
    k: int = Field(20, ge=1, le=200, description="每个需求的候选数")


class DecisionIn(BaseModel):
    """``POST /suggestions/{id}/decision``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    status: Literal["approved", "rejected", "deferred", "approve", "reject", "defer"] = Field(
        description="approved / rejected / deferred（同意 / 驳回 / 暂缓）")
    reason: str = Field(min_length=1, max_length=2000, description="理由（必填）")
    version: int = Field(ge=1, description="看到的版本号（防止并发覆盖）")


class ShortlistIn(BaseModel):
    """``POST /events/{id}/shortlist``."""

    model_config = ConfigDict(extra="forbid")
    k: int = Field(20, ge=1, le=100)
    m: int = Field(3, ge=1, le=20, description="每家企业的强候选数")
    meeting_cap: int = Field(4, ge=1, le=20, description="每位人才的洽谈场次上限")
