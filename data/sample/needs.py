"""Needs, challenges, projects and the hidden relevance judgements of the sample."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from data.sample import vocab as V
from data.sample.people import AS_OF, CityContext, updated_at
from data.sample.topics import DISCIPLINES, Topic, related

KIND_WEIGHTS = {"tech": 50, "talent": 25, "project": 15, "funding": 10}
CHALLENGE_TITLES = ("揭榜挂帅：{p}关键技术攻关", "{p}揭榜挂帅榜单", "揭榜挂帅：攻克{p}难题")
BUDGET = {"tech": (20, 500), "talent": (30, 150), "project": (500, 20000),
          "funding": (1000, 50000)}


def _others(rng: random.Random, pool: tuple[str, ...], used: str, k: int) -> list[str]:
    """Up to ``k`` phrasings of ``pool`` other than ``used``."""
    rest = [p for p in pool if p != used]
    return rng.sample(rest, min(k, len(rest)))


def need_topics(rng: random.Random, populated: list[Topic]) -> list[Topic]:
    """Primary topic (from topics some talent has) and, sometimes, a secondary one."""
    primary = rng.choice(populated)
    topics = [primary]
    if rng.random() < 0.4:
        same = [t for t in populated if t.domain == primary.domain and t != primary]
        if same:
            topics.append(rng.choice(same))
    return topics


def _description(rng: random.Random, ent: dict[str, Any], chain: str, topics: list[Topic],
                 title_phrase: str, distractor: Topic | None) -> str:
    """Need description: context, the problem in enterprise words, distractors, a goal."""
    short = ent["name"].replace("有限公司", "")
    parts = [f"{short}位于{ent['county']}，是一家{chain}领域企业，{rng.choice(V.NEED_FILLERS)}。"]
    problem = _others(rng, topics[0].need, title_phrase, 1)
    parts.append("当前主要问题：" + "；".join([title_phrase, *problem]) + "。")
    if len(topics) > 1:
        parts.append(f"同时需要解决{rng.choice(topics[1].need)}。")
    if distractor is not None:
        parts.append(f"此前已就“{rng.choice(distractor.need)}”开展过合作，本次不作要求。")
    parts.append(rng.choice(V.NEED_GOALS) + "。")
    return "".join(parts)


def need(rng: random.Random, nid: str, kind: str, topics: list[Topic], ctx: CityContext,
         enterprises: dict[str, list[dict[str, Any]]],
         title_forms: tuple[str, ...] | None = None) -> dict[str, Any]:
    """One need as a plain dict (fields of Need).

    Args:
        rng: the generator's random source.
        nid: the need id.
        kind: need kind code (tech / talent / project / funding).
        topics: primary and optional secondary latent topic.
        ctx: the city context.
        enterprises: enterprise dicts per chain.
        title_forms: title templates with ``{p}`` (default: per kind).

    Returns:
        The record dict.
    """
    primary = topics[0]
    chain = ctx.domain_chain[primary.domain]
    ent = rng.choice(enterprises.get(chain) or [e for es in enterprises.values() for e in es])
    phrase = rng.choice(primary.need)
    title = rng.choice(title_forms or V.NEED_TITLE[kind]).format(p=phrase.split("、")[0])
    others = [t for t in ctx.topics[chain] if t not in topics and t not in related(primary)]
    distractor = rng.choice(others) if others and rng.random() < 0.3 else None
    lo, hi = BUDGET[kind]
    expertise = rng.sample(DISCIPLINES[primary.domain], rng.choice((1, 2)))
    rec: dict[str, Any] = {
        "id": nid, "enterprise_id": ent["id"], "kind": kind, "title": title[:200],
        "description": _description(rng, ent, chain, topics, phrase, distractor),
        "required_expertise": expertise, "chain": chain, "city": ctx.city,
        "county": ent["county"],
        "budget": float(rng.randrange(lo, hi, 10)) if rng.random() < 0.8 else None,
        "deadline": (AS_OF + timedelta(days=rng.randint(30, 365))).date(),
        "status": rng.choices(("open", "filled", "closed"), (85, 10, 5))[0],
        "updated_at": updated_at(rng),
    }
    if kind == "talent":
        rec["full_time"] = rng.random() < 0.3
        rec["min_months"] = 12 if rec["full_time"] else rng.choice((3, 3, 4, 6))
        rec["min_title"] = rng.choice((None, "副高级", "中级"))
    return rec


def challenge(rng: random.Random, cid: str, number: int, topics: list[Topic], ctx: CityContext,
              enterprises: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """One 揭榜挂帅 challenge as a plain dict (fields of Challenge)."""
    rec = need(rng, cid, "tech", topics, ctx, enterprises, CHALLENGE_TITLES)
    rec["list_no"] = f"JB{AS_OF.year}-{number:03d}"
    rec["funding"] = float(rng.randrange(50, 1000, 10))
    rec["budget"] = rec["funding"]
    rec["eligibility"] = {
        "min_title": rng.choice(("正高级", "副高级")),
        "min_months_on_site": rng.choice((3, 3, 4, 6)),
        "min_level": rng.choice((None, None, "C", "B")),
    }
    return rec


def project(rng: random.Random, index: int, ctx: CityContext,
            enterprises: dict[str, list[dict[str, Any]]],
            talents_by_chain: dict[str, list[str]]) -> dict[str, Any]:
    """One 归根 project (signed / negotiating / intended) linked to talents."""
    chain = rng.choice([c for c in ctx.chains if talents_by_chain.get(c)])
    ent = rng.choice(enterprises.get(chain) or [e for es in enterprises.values() for e in es])
    pool = talents_by_chain[chain]
    talent_ids = rng.sample(pool, min(len(pool), rng.randint(1, 3)))
    status = rng.choices(("signed", "negotiating", "intended"), (40, 35, 25))[0]
    suffix = rng.choice(("产业化项目", "研发中心建设项目", "扩产项目", "技术改造项目",
                         "回乡创业项目"))
    return {
        "id": f"P{index:04d}", "name": f"{rng.choice(V.BRANDS)}{chain}{suffix}", "status": status,
        "amount": float(rng.randrange(500, 50000, 100)) if rng.random() < 0.85 else None,
        "city": ctx.city, "county": ent["county"], "chain": chain, "enterprise_id": ent["id"],
        "talent_ids": talent_ids,
        "description": f"由归根人才牵头，与{ent['name']}合作推进的{chain}项目。",
        "updated_at": updated_at(rng),
    }


def judge(need_topics: list[Topic], holders: dict[str, list[str]]) -> dict[str, int]:
    """Graded relevance of talents for one need.

    2: the talent has the need's primary topic; 1: it has the secondary topic or a topic
    closely related to the primary one (a neighbour in the same chain).

    Args:
        need_topics: primary topic first.
        holders: talent ids per topic id.

    Returns:
        talent id -> grade (only grades > 0).
    """
    grades: dict[str, int] = {}
    weaker = list(need_topics[1:]) + related(need_topics[0])
    for topic in weaker:
        for tid in holders.get(topic.id, ()):
            grades[tid] = 1
    for tid in holders.get(need_topics[0].id, ()):
        grades[tid] = 2
    return grades
