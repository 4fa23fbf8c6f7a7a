"""The deterministic sample generator: talents, enterprises, needs, challenges, projects, qrels.

``generate(seed=…)`` depends on its arguments only (no clock, no hash order). Talents carry
1–3 latent topics and needs 1–2 (see :mod:`data.sample.topics`); the qrels grade each
(need, talent) pair from those topics and are never rendered into any record text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter

from data.records import Challenge, EnterpriseCreate, Need, Project, TalentCreate
from data.sample import needs as N
from data.sample import people
from data.sample.topics import DOMAIN_OF_CHAIN, TOPICS, Topic
from data.taxonomy import Taxonomy, load_taxonomy

HEAVY_CHAINS = ("尼龙新材料", "特高压电气", "高端装备", "农产品加工", "生物医药")
"""Chains with twice the weight of the others (larger talent pools)."""


@dataclass
class SampleData:
    """A generated sample: validated records plus the hidden ground truth.

    ``qrels`` maps need id -> talent id -> grade (1 or 2); ``talent_topics`` and
    ``need_topics`` are the latent topic ids (for analysis only, never written to files).
    """

    city: str
    seed: int
    talents: list[TalentCreate]
    enterprises: list[EnterpriseCreate]
    needs: list[Need]
    challenges: list[Challenge]
    projects: list[Project]
    qrels: dict[str, dict[str, int]]
    talent_topics: dict[str, list[str]] = field(default_factory=dict, repr=False)
    need_topics: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def all_needs(self) -> list[Need]:
        """Needs followed by challenges (a challenge is a need)."""
        return [*self.needs, *self.challenges]


def city_context(city: str, taxonomy: Taxonomy | None = None) -> people.CityContext:
    """The generator's view of a programme city's taxonomy.

    Args:
        city: a city name or alias known to the taxonomy.
        taxonomy: the taxonomy (default: the bundled files).

    Returns:
        Counties, chains with topics and their weights.
    """
    tax = taxonomy or load_taxonomy()
    c = tax.city(city)
    chains = [n for n in c.vocabs["chain"].names if n in DOMAIN_OF_CHAIN]
    if not chains:
        raise ValueError(f"城市「{c.name}」没有可用于样例数据的产业链")
    return people.CityContext(
        city=c.name,
        counties=c.vocabs["county"].names,
        chains=chains,
        chain_weights=[2.0 if ch in HEAVY_CHAINS else 1.0 for ch in chains],
        domain_chain={DOMAIN_OF_CHAIN[ch]: ch for ch in chains},
        topics={ch: TOPICS[DOMAIN_OF_CHAIN[ch]] for ch in chains},
    )


def _validate(model: type, rows: list[dict[str, Any]]) -> list[Any]:
    """Validate many dicts at once (one pydantic call, not one per record)."""
    return TypeAdapter(list[model]).validate_python(rows)  # type: ignore[valid-type]


def _make_talents(rng: random.Random, n: int, ctx: people.CityContext
                  ) -> tuple[list[dict[str, Any]], dict[str, list[str]], dict[str, list[str]]]:
    rows: list[dict[str, Any]] = []
    topics_of: dict[str, list[str]] = {}
    holders: dict[str, list[str]] = {}
    for i in range(1, n + 1):
        rec, topics = people.talent(rng, i, ctx)
        rows.append(rec)
        topics_of[rec["id"]] = [t.id for t in topics]
        for t in topics:
            holders.setdefault(t.id, []).append(rec["id"])
    return rows, topics_of, holders


def _make_needs(rng: random.Random, n_needs: int, n_challenges: int, ctx: people.CityContext,
                ents: dict[str, list[dict[str, Any]]], holders: dict[str, list[str]]
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, list[Topic]]]:
    all_topics = [t for ch in ctx.chains for t in ctx.topics[ch]]
    populated = [t for t in all_topics if len(holders.get(t.id, ())) >= 3] or [
        t for t in all_topics if holders.get(t.id)]
    kinds, weights = zip(*N.KIND_WEIGHTS.items(), strict=True)
    needs: list[dict[str, Any]] = []
    challenges: list[dict[str, Any]] = []
    topics_of: dict[str, list[Topic]] = {}
    for i in range(1, n_needs + 1):
        topics = N.need_topics(rng, populated)
        rec = N.need(rng, f"N{i:04d}", rng.choices(kinds, weights)[0], topics, ctx, ents)
        needs.append(rec)
        topics_of[rec["id"]] = topics
    for i in range(1, n_challenges + 1):
        topics = N.need_topics(rng, populated)
        rec = N.challenge(rng, f"C{i:04d}", i, topics, ctx, ents)
        challenges.append(rec)
        topics_of[rec["id"]] = topics
    return needs, challenges, topics_of


def generate(n_talents: int = 2000, n_needs: int = 300, seed: int = 42, city: str = "平顶山",
             n_challenges: int | None = None, n_enterprises: int | None = None,
             taxonomy: Taxonomy | None = None) -> SampleData:
    """Generate a deterministic sample for one programme city.

    Args:
        n_talents: number of talents (ids T000001…).
        n_needs: number of plain needs (ids N0001…).
        seed: random seed; the same arguments give the same sample.
        city: programme city (平顶山 or 南阳, or an alias).
        n_challenges: number of 揭榜挂帅 challenges (ids C0001…); default 15 % of n_needs.
        n_enterprises: number of enterprises (ids E0001…); default max(12, n_needs // 3).
        taxonomy: the taxonomy (default: the bundled files).

    Returns:
        The validated records and the hidden qrels.

    Raises:
        ValueError: needs were asked for without any talent to judge them against.
    """
    if n_talents < 1 and n_needs + (n_challenges or 0) > 0:
        raise ValueError("样例数据至少需要 1 名人才才能生成需求 (n_talents must be ≥ 1)")
    rng = random.Random(seed)
    ctx = city_context(city, taxonomy)
    n_challenges = round(n_needs * 0.15) if n_challenges is None else n_challenges
    n_enterprises = n_enterprises or max(12, n_needs // 3)
    ent_rows = [people.enterprise(rng, i, ctx) for i in range(1, n_enterprises + 1)]
    ctx.enterprise_names = [e["name"] for e in ent_rows]
    ents: dict[str, list[dict[str, Any]]] = {}
    for e in ent_rows:
        for chain in e["chains"]:
            ents.setdefault(chain, []).append(e)
    talent_rows, talent_topics, holders = _make_talents(rng, n_talents, ctx)
    need_rows, challenge_rows, need_topics = _make_needs(rng, n_needs, n_challenges, ctx, ents,
                                                         holders)
    by_chain: dict[str, list[str]] = {}
    for row in talent_rows[:5000]:
        for ch in row["chains"]:
            by_chain.setdefault(ch, []).append(row["id"])
    project_rows = [N.project(rng, i, ctx, ents, by_chain)
                    for i in range(1, max(8, n_needs // 8) + 1)] if talent_rows else []
    qrels = {nid: N.judge(topics, holders) for nid, topics in need_topics.items()}
    return SampleData(
        city=ctx.city, seed=seed,
        talents=_validate(TalentCreate, talent_rows),
        enterprises=_validate(EnterpriseCreate, ent_rows),
        needs=_validate(Need, need_rows),
        challenges=_validate(Challenge, challenge_rows),
        projects=_validate(Project, project_rows),
        qrels=qrels,
        talent_topics=talent_topics,
        need_topics={k: [t.id for t in v] for k, v in need_topics.items()},
    )
