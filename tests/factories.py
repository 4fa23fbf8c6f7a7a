"""Small record factories for tests: valid records with overridable fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from data.records import (
    Challenge,
    Contact,
    Decision,
    DecisionAction,
    EnterpriseCreate,
    Need,
    NeedKind,
    Project,
    ProjectStatus,
    Suggestion,
    TalentCreate,
    WorkGroup,
)

CATEGORIES = (
    "党政军群及事业单位", "企业经营管理", "专业技术", "优秀学子及研究人员", "社会各界知名人士",
    "高技能", "其他",
)
"""The 7 归根 categories (canonical names of data/taxonomy/common.yaml)."""


def make_contact(i: int = 0, **overrides: Any) -> Contact:
    """A contact with a valid mobile number and e-mail address."""
    fields: dict[str, Any] = {
        "phone": f"138{i:08d}"[-11:],
        "email": f"person{i}@example.com",
        "wechat": f"wx_{i}",
    }
    return Contact(**{**fields, **overrides})


def make_talent(i: int = 0, **overrides: Any) -> TalentCreate:
    """A talent ``T{i:06d}`` with a contact; ``overrides`` replace fields."""
    fields: dict[str, Any] = {
        "id": f"T{i:06d}",
        "name": f"人才{i}",
        "hometown_county": ("叶县", "宝丰县", "郏县", "鲁山县")[i % 4],
        "ties": ["籍贯"],
        "current_city": ("北京", "上海", "深圳")[i % 3],
        "organisation": f"某研究院{i % 50}",
        "title": "正高级" if i % 5 == 0 else "副高级",
        "category": CATEGORIES[i % len(CATEGORIES)],
        "level": "ABC"[i % 3],
        "disciplines": ["材料科学"],
        "research_directions": ["尼龙新材料", "碳基材料"][: 1 + i % 2],
        "chains": ["尼龙新材料"],
        "intent": ["柔性"],
        "months_per_year": 3,
        "contact": make_contact(i),
    }
    return TalentCreate(**{**fields, **overrides})


def make_enterprise(i: int = 0, **overrides: Any) -> EnterpriseCreate:
    """An enterprise ``E{i:04d}`` with a contact."""
    fields: dict[str, Any] = {
        "id": f"E{i:04d}",
        "name": f"企业{i}",
        "county": "新华区",
        "chains": ["尼龙新材料"],
        "description": "尼龙 66 切片生产",
        "contact": make_contact(10_000 + i),
    }
    return EnterpriseCreate(**{**fields, **overrides})


def make_need(i: int = 0, **overrides: Any) -> Need:
    """A technology need ``N{i:04d}``."""
    fields: dict[str, Any] = {
        "id": f"N{i:04d}",
        "enterprise_id": "E0000",
        "kind": NeedKind.tech,
        "title": f"需求{i}: 尼龙改性工艺",
        "required_expertise": ["高分子材料"],
        "chain": "尼龙新材料",
        "county": "新华区",
    }
    return Need(**{**fields, **overrides})


def make_challenge(i: int = 0, **overrides: Any) -> Challenge:
    """A 揭榜挂帅 challenge ``C{i:04d}``."""
    fields: dict[str, Any] = {
        "id": f"C{i:04d}",
        "title": f"榜单{i}: 关键技术攻关",
        "list_no": f"2025-{i:03d}",
        "funding": 500.0,
        "chain": "尼龙新材料",
    }
    return Challenge(**{**fields, **overrides})


def make_project(i: int = 0, **overrides: Any) -> Project:
    """A 归根 project ``P{i:04d}``."""
    fields: dict[str, Any] = {
        "id": f"P{i:04d}",
        "name": f"项目{i}",
        "status": ProjectStatus.signed,
        "amount": 1000.0,
        "talent_ids": ["T000000"],
    }
    return Project(**{**fields, **overrides})


def make_suggestion(i: int = 0, **overrides: Any) -> Suggestion:
    """A proposed suggestion ``S{i:04d}`` at version 1."""
    fields: dict[str, Any] = {
        "id": f"S{i:04d}",
        "need_id": "N0000",
        "talent_id": f"T{i:06d}",
        "score": 0.5 + i / 1000,
        "features": {"dense": 0.7, "lexical": 0.3},
        "explanation": "研究方向与需求一致",
        "rank": i,
        "run_id": "R1",
        "work_group": WorkGroup.tech_return,
    }
    return Suggestion(**{**fields, **overrides})


def make_decision(suggestion_id: str, i: int = 0, **overrides: Any) -> Decision:
    """An approve decision ``D{i:04d}`` on ``suggestion_id``."""
    fields: dict[str, Any] = {
        "id": f"D{i:04d}",
        "suggestion_id": suggestion_id,
        "actor": "reviewer1",
        "action": DecisionAction.approve,
        "reason": "符合需求",
        "at": dt.datetime(2025, 3, 1, 9, 30, i % 60, tzinfo=dt.UTC),
    }
    return Decision(**{**fields, **overrides})
