"""The records of talentmatch (pydantic v2), per ../shared/DESIGN.md and GLOSSARY.md.

Schema families: each entity has a public model (safe to show to anyone who may see the
entity) and, where the entity has private contact data, a ``*Create`` model that adds a
``contact`` field. Public models have no contact fields at all, so a response built from
them cannot leak phone numbers or e-mail addresses by accident.

Categorical values (category, level, county, chain, need kind …) are canonicalised by the
importer through :mod:`data.taxonomy` before they reach these models; the models check
shape and ranges only, so they stay usable without the taxonomy files.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")

StableId = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_RE.pattern)]


class NeedKind(StrEnum):
    """需求类型: the four kinds of enterprise need, each owned by one work group."""

    tech = "tech"  # 技术攻关
    talent = "talent"  # 人才引进
    project = "project"  # 项目合作
    funding = "funding"  # 资金


class WorkGroup(StrEnum):
    """工作小组: the four work groups that review suggestions."""

    talent_return = "talent_return"  # 人才回归 (市人社局)
    tech_return = "tech_return"  # 技术回归 (市科技局)
    project_return = "project_return"  # 项目回归 (市发改委)
    capital_return = "capital_return"  # 资金回归 (市商务局)


WORK_GROUP_OF_KIND: dict[NeedKind, WorkGroup] = {
    NeedKind.tech: WorkGroup.tech_return,
    NeedKind.talent: WorkGroup.talent_return,
    NeedKind.project: WorkGroup.project_return,
    NeedKind.funding: WorkGroup.capital_return,
}


class ProjectStatus(StrEnum):
    """归根 project library status: 已签约 / 在谈 / 意向."""

    signed = "signed"
    negotiating = "negotiating"
    intended = "intended"


class NeedStatus(StrEnum):
    """Lifecycle of a need."""

    open = "open"
    filled = "filled"
    closed = "closed"


class SuggestionStatus(StrEnum):
    """Review status of a suggestion."""

    proposed = "proposed"
    approved = "approved"
    rejected = "rejected"
    deferred = "deferred"


class DecisionAction(StrEnum):
    """What a reviewer did."""

    approve = "approve"
    reject = "reject"
    defer = "defer"


class Record(BaseModel):
    """Base of every record: strict about unknown fields, strips whitespace."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_enum_values=False)


def _clean_list(value: Any) -> Any:
    """Accept a list or a delimited string (、，,;；/|) and drop empty items."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = re.split(r"[、，,;；|\n]+", value)
        return [p.strip() for p in parts if p.strip()]
    if not isinstance(value, list | tuple | set | frozenset):
        raise ValueError("应为列表，或以顿号、逗号分隔的文本")
    return [str(v).strip() for v in value if str(v).strip()]


class Contact(Record):
    """Private contact data. Stored apart; only shown when asked for and allowed."""

    phone: str | None = Field(default=None, description="手机: mainland mobile number")
    email: str | None = Field(default=None, description="邮箱")
    wechat: str | None = Field(default=None, max_length=64, description="微信")

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        digits = re.sub(r"[\s-]", "", v)
        if digits.startswith("+86"):
            digits = digits[3:]
        if not MOBILE_RE.match(digits):
            raise ValueError("不是有效的大陆手机号 (11 位，1 开头)")
        return digits

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        if not EMAIL_RE.match(v):
            raise ValueError("不是有效的电子邮箱地址")
        return v.lower()

    def is_empty(self) -> bool:
        """True when no contact field is set."""
        return not (self.phone or self.email or self.wechat)


class Achievement(Record):
    """主要成果: a paper, patent, project or award of a talent."""

    kind: str = Field(default="other", description="paper / patent / project / award / other")
    title: str = Field(min_length=1, max_length=300)
    text: str = Field(default="", max_length=4000)
    year: int | None = Field(default=None, ge=1950, le=2100)


class Talent(Record):
    """人才: a person in the talent library (public fields only)."""

    id: StableId
    name: str = Field(min_length=1, max_length=64)
    city: str = Field(default="平顶山", description="the programme city whose library holds the talent")
    hometown_county: str | None = Field(default=None, description="籍贯 county, canonical name")
    ties: list[str] = Field(default_factory=list, description="籍贯 / 成长经历 / 情感联系")
    current_city: str | None = None
    organisation: str | None = Field(default=None, max_length=200)
    parent_organisation: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=64, description="职称")
    position: str | None = Field(default=None, max_length=100, description="职务")
    degree: str | None = Field(default=None, max_length=32)
    category: str = Field(description="one of the 7 归根 categories, canonical name")
    level: str | None = Field(default=None, description="A / B / C")
    disciplines: list[str] = Field(default_factory=list)
    research_directions: list[str] = Field(default_factory=list)
    achievements: list[Achievement] = Field(default_factory=list)
    chains: list[str] = Field(default_factory=list, description="industry chains, canonical")
    intent: list[str] = Field(default_factory=list, description="全职 / 柔性 / 项目合作 / 投资 / 咨询")
    months_per_year: int | None = Field(default=None, ge=0, le=12, description="每年可在平月数")
    nationality: str | None = Field(default=None, max_length=32)
    avoid: list[str] = Field(default_factory=list, description="回避: organisations or people")
    relatives: list[str] = Field(default_factory=list, description="declared relatives/partners")
    led_projects: int = Field(default=0, ge=0, description="number of projects led")
    updated_at: datetime | None = None
    source: str | None = Field(default=None, max_length=64)

    _lists = field_validator(
        "ties", "disciplines", "research_directions", "chains", "intent", "avoid", "relatives",
        mode="before",
    )(_clean_list)


class TalentCreate(Talent):
    """A talent with its private contact data, as imported."""

    contact: Contact | None = None


class Enterprise(Record):
    """企业: an organisation that posts needs."""

    id: StableId
    name: str = Field(min_length=1, max_length=200)
    city: str = "平顶山"
    county: str | None = None
    chains: list[str] = Field(default_factory=list)
    parent_company: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=4000)
    updated_at: datetime | None = None

    _lists = field_validator("chains", mode="before")(_clean_list)


class EnterpriseCreate(Enterprise):
    """An enterprise with its private contact data, as imported."""

    contact: Contact | None = None


class Eligibility(Record):
    """揭榜挂帅 eligibility rules; every field is optional."""

    min_title: str | None = Field(default=None, description="e.g. 正高级 / 副高级")
    min_level: str | None = Field(default=None, description="A / B / C: at least this level")
    min_months_on_site: int | None = Field(default=None, ge=0, le=12)
    nationalities: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)

    _lists = field_validator("nationalities", "regions", mode="before")(_clean_list)


class Need(Record):
    """企业需求: a technology, talent, project or funding need of an enterprise."""

    id: StableId
    enterprise_id: StableId | None = None
    kind: NeedKind
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=8000)
    required_expertise: list[str] = Field(default_factory=list)
    chain: str | None = None
    city: str = "平顶山"
    county: str | None = None
    budget: float | None = Field(default=None, ge=0, description="万元")
    deadline: dt.date | None = None
    status: NeedStatus = NeedStatus.open
    min_months: int | None = Field(default=None, ge=0, le=12, description="months on site wanted")
    full_time: bool = False
    min_title: str | None = None
    min_level: str | None = None
    avoid: list[str] = Field(default_factory=list, description="回避: organisations or people")
    contact_person: str | None = Field(default=None, max_length=64,
                                       description="联系人: the enterprise's person for this need")
    updated_at: datetime | None = None

    _lists = field_validator("required_expertise", "avoid", mode="before")(_clean_list)

    @property
    def work_group(self) -> WorkGroup:
        """The work group that owns this need's kind."""
        return WORK_GROUP_OF_KIND[NeedKind(self.kind)]


class Challenge(Need):
    """揭榜挂帅: an open-call key-technology problem with eligibility rules."""

    kind: NeedKind = NeedKind.tech
    list_no: str | None = Field(default=None, max_length=32, description="榜单编号")
    funding: float | None = Field(default=None, ge=0, description="万元")
    eligibility: Eligibility = Field(default_factory=Eligibility)
    team_size: tuple[int, int] = (3, 5)

    @model_validator(mode="after")
    def _team(self) -> Challenge:
        lo, hi = self.team_size
        if not 1 <= lo <= hi <= 20:
            raise ValueError("team_size must be (min, max) with 1 ≤ min ≤ max ≤ 20")
        return self


class Project(Record):
    """归根 project library entry."""

    id: StableId
    name: str = Field(min_length=1, max_length=200)
    status: ProjectStatus
    amount: float | None = Field(default=None, ge=0, description="万元")
    city: str = "平顶山"
    county: str | None = None
    chain: str | None = None
    enterprise_id: StableId | None = None
    talent_ids: list[str] = Field(default_factory=list)
    description: str = Field(default="", max_length=4000)
    updated_at: datetime | None = None

    _lists = field_validator("talent_ids", mode="before")(_clean_list)


class Suggestion(Record):
    """推荐: one proposed (need, talent) pair with score and explanation."""

    id: StableId
    need_id: StableId
    talent_id: StableId
    score: float
    features: dict[str, float] = Field(default_factory=dict)
    explanation: str = ""
    rank: int = Field(default=0, ge=0)
    run_id: str | None = None
    work_group: WorkGroup
    status: SuggestionStatus = SuggestionStatus.proposed
    version: int = Field(default=1, ge=1)
    contributions: dict[str, float] = Field(
        default_factory=dict, description="each feature's share of the fused score (the run's)")
    flags: list[str] = Field(default_factory=list, description="soft-rule flags at the run")
    fused: float | None = Field(default=None, description="fused score before penalties")

    @field_validator("contributions", "flags", mode="before")
    @classmethod
    def _empty(cls, v: Any, info: Any) -> Any:
        """NULL columns (suggestions stored before migration 0008) read as empty."""
        if v is None:
            return {} if info.field_name == "contributions" else []
        return v


class Decision(Record):
    """审核: an append-only audit record of a review decision."""

    id: StableId
    suggestion_id: StableId
    actor: str = Field(min_length=1, max_length=64)
    action: DecisionAction
    reason: str = Field(min_length=1, max_length=2000)
    at: datetime


class Run(BaseModel):
    """运行: one recorded pairing, matching or demand-map run (its suggestions are stored apart).

    ``params`` are the run's inputs, ``result`` its JSON-ready summary; ``created_at`` is set
    by the store.
    """

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=64)
    kind: str = Field(min_length=1, max_length=32)
    started_by: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    solver: str | None = None
    objective: float | None = None
    duration_s: float | None = None
    partial: bool = False
    result: dict[str, Any] | None = None
    created_at: datetime | None = None


class Event(Record):
    """对接会: a matchmaking event."""

    id: StableId
    name: str = Field(min_length=1, max_length=200)
    city: str = "平顶山"
    date: dt.date | None = None
    venue: str | None = Field(default=None, max_length=200, description="地点")
    theme: str | None = Field(default=None, max_length=200, description="主题")
    capacity: int = Field(default=100, ge=1, le=10000)
    theme_chains: list[str] = Field(default_factory=list)
    enterprise_ids: list[str] = Field(default_factory=list)
    need_ids: list[str] = Field(default_factory=list)
    time_slots: list[str] = Field(default_factory=list)

    _lists = field_validator(
        "theme_chains", "enterprise_ids", "need_ids", "time_slots", mode="before"
    )(_clean_list)


ENTITY_MODELS: dict[str, type[Record]] = {
    "talents": TalentCreate,
    "enterprises": EnterpriseCreate,
    "needs": Need,
    "challenges": Challenge,
    "projects": Project,
}
"""Import model per importable entity name (the CLI's ``import <entity>`` argument)."""

PUBLIC_MODELS: dict[str, type[Record]] = {
    "talents": Talent,
    "enterprises": Enterprise,
    "needs": Need,
    "challenges": Challenge,
    "projects": Project,
}
"""Public model per entity name: never carries contact data."""
