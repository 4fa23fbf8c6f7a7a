"""Talent and enterprise rendering for the sample generator (plain dicts, validated later)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from data.sample import vocab as V
from data.sample.topics import DISCIPLINES, Topic

AS_OF = datetime(2026, 6, 30, 12, 0, 0)
"""Reference "now" of the sample, fixed so that output depends on the seed only."""

MOBILE_PREFIXES = tuple([f"13{d}" for d in range(10)] + ["150", "151", "152", "153", "155",
                        "156", "157", "158", "159"] + [f"18{d}" for d in range(10)])
MAIL_DOMAINS = ("example.com", "example.cn", "example.org", "mail.example.net")
SEPARATOR_CHARS = "、，,;；|\n"


@dataclass
class CityContext:
    """What the generator needs to know about the programme city."""

    city: str
    counties: list[str]
    chains: list[str]  # chains that have topics
    chain_weights: list[float]
    domain_chain: dict[str, str]  # topic domain -> chain of this city
    topics: dict[str, list[Topic]]  # chain -> topics
    enterprise_names: list[str] = field(default_factory=list)


def person_name(rng: random.Random) -> tuple[str, str]:
    """A made-up Chinese name and its pinyin (for a fake e-mail address)."""
    sur, sur_py = rng.choice(V.SURNAMES)
    parts = [rng.choice(V.GIVEN) for _ in range(1 if rng.random() < 0.35 else 2)]
    return sur + "".join(p[0] for p in parts), sur_py + "".join(p[1] for p in parts)


def contact(rng: random.Random, pinyin: str, p_phone: float = 0.9,
            p_email: float = 0.75) -> dict[str, str] | None:
    """Fake private contact data: a mainland mobile number and an example.* e-mail."""
    out: dict[str, str] = {}
    if rng.random() < p_phone:
        out["phone"] = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}"
    if rng.random() < p_email:
        out["email"] = f"{pinyin}{rng.randint(1, 9999)}@{rng.choice(MAIL_DOMAINS)}"
    return out or None


def updated_at(rng: random.Random) -> datetime:
    """A time within the two years before :data:`AS_OF`."""
    return AS_OF - timedelta(seconds=rng.randrange(730 * 86400))


def _typo(rng: random.Random, text: str) -> str:
    """Swap two neighbouring characters (a realistic typing slip)."""
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def pick_topics(rng: random.Random, ctx: CityContext) -> list[Topic]:
    """1–3 latent topics of a talent, mostly from one chain."""
    chain = rng.choices(ctx.chains, ctx.chain_weights)[0]
    n = rng.choices((1, 2, 3), (45, 40, 15))[0]
    own = ctx.topics[chain]
    chosen = rng.sample(own, min(n, len(own)))
    if n > 1 and rng.random() < 0.2:
        other = rng.choices(ctx.chains, ctx.chain_weights)[0]
        extra = rng.choice(ctx.topics[other])
        if extra not in chosen:
            chosen[-1] = extra
    return chosen


def _organisation(rng: random.Random, category: str, domain: str,
                  city: str) -> tuple[str, str | None, str]:
    """(organisation, parent organisation, organisation kind) for a talent."""
    roll = rng.random()
    brand = rng.choice(V.BRANDS)
    if category == "优秀学子及研究人员" or (category == "专业技术" and roll < 0.5):
        uni = rng.choice(V.UNI_PREFIX) + rng.choice(V.UNI_KIND)
        return uni + V.SCHOOL_OF[domain], uni, "university"
    if category == "专业技术" and roll < 0.72:
        org = rng.choice(V.UNI_PREFIX) + V.COMPANY_SUFFIX[domain][0] + rng.choice(V.INSTITUTE)
        return org, None, "institute"
    if category == "专业技术" and domain == "pharma" and roll < 0.85:
        return city + rng.choice(V.HOSPITAL), None, "hospital"
    if category == "党政军群及事业单位":
        return rng.choice(V.GOV_ORGS), None, "government"
    if category == "社会各界知名人士":
        return city + brand + rng.choice(V.SOCIAL_ORGS), None, "society"
    company = f"{city}{brand}{rng.choice(V.COMPANY_SUFFIX[domain])}有限公司"
    parent = f"{brand}控股集团" if rng.random() < 0.15 else None
    return company, parent, "company"


def _profile(rng: random.Random, category: str, org_kind: str) -> tuple[str, str, str]:
    """(title, position, degree) that agree with each other and with the organisation."""
    if category == "优秀学子及研究人员":
        position, title, degree = rng.choice(V.STUDENT_PROFILE)
        return title, position, degree
    if category == "专业技术":
        titles, positions = V.TECH_PROFILE[org_kind]
        return rng.choice(titles), rng.choice(positions), rng.choice(V.TECH_DEGREES)
    titles, positions, degrees = V.PROFILE[category]
    return rng.choice(titles), rng.choice(positions), rng.choice(degrees)


def _mostly_ascii(text: str) -> bool:
    return sum(ch.isascii() for ch in text) > len(text) / 2


def _achievements(rng: random.Random, category: str, topics: list[Topic],
                  year_max: int) -> list[dict[str, Any]]:
    """Papers, patents, projects and awards phrased with the talent's own vocabulary."""
    lo, hi = {"专业技术": (2, 6), "优秀学子及研究人员": (1, 3), "企业经营管理": (0, 2),
              "高技能": (0, 2)}.get(category, (0, 1))
    items = []
    for _ in range(rng.randint(lo, hi)):
        p = rng.choice(rng.choice(topics).talent)
        kind = rng.choices(("paper", "patent", "project", "award"), (45, 25, 20, 10))[0]
        if kind == "patent" and _mostly_ascii(p):
            kind = "paper"
        year = rng.randint(2008, year_max)
        if kind == "paper" and _mostly_ascii(p):
            title, text = rng.choice(V.ENGLISH_PAPER_FORMS).format(p=p), "SCI收录，第一作者"
        elif kind == "paper":
            title, text = p + rng.choice(V.PAPER_SUFFIX), rng.choice(("发表于核心期刊", "第一作者",
                                                                      "通讯作者", "EI收录"))
        elif kind == "patent":
            title, text = rng.choice(V.PATENT_FORMS).format(p=p), rng.choice(("发明专利，已授权",
                                                                               "实用新型专利"))
        elif kind == "project":
            title, text = rng.choice(V.PROJECT_FORMS).format(p=p), rng.choice(("主持", "参与"))
        else:
            title, text = rng.choice(V.AWARDS), f"{p}相关成果"
        items.append({"kind": kind, "title": title, "text": text, "year": year})
    return items


def _intent_months(rng: random.Random) -> tuple[list[str], int | None]:
    intent = rng.sample(("全职", "柔性", "项目合作", "投资", "咨询"), rng.choices((1, 2), (70, 30))[0])
    if "全职" in intent:
        months: int | None = 12
    else:
        months = rng.choice((1, 2, 3, 3, 3, 4, 6))
    if rng.random() < 0.15:
        months = None
    return intent, months


def _ties(rng: random.Random) -> list[str]:
    roll = rng.random()
    if roll < 0.75:
        return ["籍贯", "成长经历"] if rng.random() < 0.3 else ["籍贯"]
    return ["成长经历"] if roll < 0.92 else ["情感联系"]


def _level(rng: random.Random, category: str) -> str | None:
    if category == "专业技术":
        return rng.choices(("A", "B", "C", None), (3, 8, 15, 74))[0]
    if category in ("企业经营管理", "高技能"):
        return rng.choices(("C", None), (5, 95))[0]
    return None


def talent(rng: random.Random, index: int, ctx: CityContext) -> tuple[dict[str, Any], list[Topic]]:
    """One talent as a plain dict (fields of TalentCreate) and its hidden topics.

    Args:
        rng: the generator's random source.
        index: 1-based number, gives the id ``T000001``.
        ctx: the city context.

    Returns:
        (record dict, latent topics).
    """
    topics = pick_topics(rng, ctx)
    domain = topics[0].domain
    category = rng.choices(V.CATEGORIES, V.CATEGORY_WEIGHTS)[0]
    name, pinyin = person_name(rng)
    abroad = rng.random() < 0.06
    if abroad:
        current_city, nationality = rng.choice(V.ABROAD)
        nationality = nationality if rng.random() < 0.3 else "中国"
    else:
        current_city = rng.choices(V.DOMESTIC_CITIES, V.DOMESTIC_WEIGHTS)[0]
        nationality = "中国"
    org, parent, org_kind = _organisation(rng, category, domain, current_city)
    title, position, degree = _profile(rng, category, org_kind)
    directions = [rng.choice(t.talent) for t in topics]
    if rng.random() < 0.35:
        directions.insert(1, rng.choice([p for p in topics[0].talent if p != directions[0]]))
    if category in ("企业经营管理", "党政军群及事业单位"):
        directions.append(rng.choice(V.MANAGEMENT_DIRECTIONS))
    elif rng.random() < 0.5:
        directions.append(rng.choice(V.METHOD_TERMS))
    if rng.random() < 0.02:
        directions[0] = _typo(rng, directions[0])
    ties = _ties(rng)
    intent, months = _intent_months(rng)
    disciplines = rng.sample(DISCIPLINES[domain], rng.choice((1, 1, 2)))
    chains = list(dict.fromkeys(ctx.domain_chain[t.domain] for t in topics))
    rec: dict[str, Any] = {
        "id": f"T{index:06d}", "name": name, "city": ctx.city,
        "hometown_county": rng.choice(ctx.counties) if "籍贯" in ties else None,
        "ties": ties, "current_city": current_city,
        "organisation": org if rng.random() > 0.03 else None,
        "parent_organisation": parent,
        "title": title if rng.random() > 0.1 else None,
        "position": position if rng.random() > 0.1 else None,
        "degree": degree if rng.random() > 0.08 else None,
        "category": category, "level": _level(rng, category),
        "disciplines": disciplines, "research_directions": directions,
        "achievements": _achievements(rng, category, topics, AS_OF.year),
        "chains": chains, "intent": intent, "months_per_year": months,
        "nationality": nationality,
        "avoid": [rng.choice(ctx.enterprise_names)] if ctx.enterprise_names
        and rng.random() < 0.03 else [],
        "relatives": [person_name(rng)[0]] if rng.random() < 0.02 else [],
        "led_projects": rng.randint(0, 8) if category == "专业技术" else 0,
        "updated_at": updated_at(rng),
        "source": rng.choice(("归根人才信息库", "县区报送", "线上登记", "恳谈会收集")),
        "contact": contact(rng, pinyin),
    }
    return rec, topics


def enterprise(rng: random.Random, index: int, ctx: CityContext) -> dict[str, Any]:
    """One local enterprise as a plain dict (fields of EnterpriseCreate)."""
    chain = rng.choices(ctx.chains, ctx.chain_weights)[0]
    domain = ctx.topics[chain][0].domain
    brand = rng.choice(V.BRANDS)
    name = f"{ctx.city}{brand}{rng.choice(V.COMPANY_SUFFIX[domain])}有限公司"
    chains = [chain]
    if rng.random() < 0.15:
        chains.append(rng.choice([c for c in ctx.chains if c != chain]))
    county = rng.choice(ctx.counties)
    return {
        "id": f"E{index:04d}", "name": name, "city": ctx.city, "county": county,
        "chains": chains, "parent_company": f"{brand}控股集团" if rng.random() < 0.2 else None,
        "description": f"位于{county}，主要从事{chain}相关产品的研发、生产和销售。"
                       + rng.choice(V.NEED_FILLERS) + "。",
        "updated_at": updated_at(rng),
        "contact": contact(rng, "hr" + brand.encode().hex()[:6], 0.95, 0.8),
    }
