"""The pooled features and rules equal the per-pair reference; the caches of the cold path."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.record_cache import RecordCache
from data.records import Achievement, Need, NeedKind, Talent
from data.store import Store
from data.taxonomy import load_taxonomy
from matching.matcher import Matcher
from matching.pool import FactsCache, first_matches
from matching.reference import ReferenceMatcher
from matching.tables import MatchingTables, term_pattern
from tests._sample_fixture import default_sample

TABLES = MatchingTables.from_taxonomy(load_taxonomy())
NOW = datetime(2026, 6, 30, tzinfo=UTC)


@dataclass
class FakeHit:
    id: str
    score: float
    raw: dict[str, float] = field(default_factory=dict)


def _pool(need: Need, talents: list[Talent], special: list[Talent], rng: random.Random,
          ent_name: str | None) -> tuple[list[FakeHit], dict[str, Talent]]:
    """~200 candidates: same-chain talents, talents with avoid / relatives entries, random
    ones, one employed by the need's enterprise; a repeated and an unknown hit."""
    chain = [t for t in talents if need.chain and need.chain in t.chains][:60]
    pool = {t.id: t for t in [*chain, *special, *rng.sample(talents, 100)]}
    if ent_name:
        inside = talents[0].model_copy(update={"id": "T-inside", "organisation": ent_name})
        pool[inside.id] = inside
    ids = list(pool)
    rng.shuffle(ids)
    hits = [FakeHit(i, rng.random(), {"dense_profile": rng.uniform(-0.1, 0.9),
                                      "dense_items": rng.uniform(0, 0.9),
                                      "bm25": rng.choice([0.0, rng.uniform(0, 30)]),
                                      "bm25_words": rng.random(), "bm25_chars": rng.random()})
            for i in ids]
    hits.insert(5, FakeHit(ids[0], 0.1, {"bm25": 1.0}))  # a repeated id
    hits.insert(7, FakeHit("T-unknown", 0.9, {"bm25": 2.0}))
    return hits, pool


CRAFTED = [  # synonyms (found_as) and inner terms, in the profile and in the items
    Talent(id="T-syn", name="甲", category="专业技术", research_directions=["PA66聚合"], chains=["尼龙新材料"]),
    Talent(id="T-inner", name="乙", category="专业技术", research_directions=["熔融纺丝"], intent=["全职"]),
    Talent(id="T-items", name="丙", category="专业技术", achievements=[Achievement(title="PA6改性", text="纺丝")]),
]


def test_pooled_matcher_equals_the_per_pair_reference_on_the_sample():
    sample = default_sample()
    rng = random.Random(7)
    ents = {e.id: e for e in sample.enterprises}
    special = [t for t in sample.talents if t.avoid or t.relatives] + CRAFTED
    nylon = Need(id="N-nylon", enterprise_id=sample.enterprises[0].id, kind=NeedKind.tech,
                 title="尼龙66切片纺丝工艺改进，尼龙6", required_expertise=["纺丝工艺"],
                 chain="尼龙新材料", min_title="副高级")
    needs = [nylon, *sample.needs[::6], *sample.challenges[::3]]
    new = Matcher(TABLES, now=NOW)
    ref = ReferenceMatcher(TABLES, now=NOW)
    seen = {"dropped": 0, "flags": 0, "found_as": 0, "inner": 0}
    for need in needs:
        ent = ents.get(need.enterprise_id or "")
        hits, talents = _pool(need, sample.talents, special, rng, ent.name if ent else None)
        got, want = new.candidates(need, hits, talents, ent), ref.candidates(need, hits, talents,
                                                                            ent)
        assert got == want, need.id
        a, b = new.rank(need, got, talents, ent), ref.rank(need, want, talents, ent)
        assert a == b, need.id  # scores, order, features, details, explanations, flags
        assert new.match_need(need, hits, talents, ent, k=20) == ref.match_need(
            need, hits, talents, ent, k=20)
        seen["dropped"] += len(a.dropped)
        seen["flags"] += sum(bool(m.flags) for m in a.matches)
        seen["found_as"] += sum(bool(c.features.details.found_as) for c in got)
        seen["inner"] += sum("纺丝工艺" in c.features.details.found_as for c in got)
    assert all(seen.values()), seen  # the sample exercised every branch compared


def test_facts_are_recomputed_for_a_changed_talent_object():
    cache = FactsCache(TABLES, size=2)
    t = Talent(id="T1", name="甲", category="专业技术", research_directions=["尼龙66"])
    assert cache.get(t) is cache.get(t)
    changed = t.model_copy(update={"research_directions": ["纺丝"]})
    assert cache.get(changed).profile == "纺丝"
    for i in range(3):
        cache.get(Talent(id=f"X{i}", name="乙", category="专业技术"))
    assert len(cache) == 2


WORDS = st.sampled_from(["尼龙6", "尼龙66", "pa6", "pa66", "纺丝", "a", "6", "；", "。", "x尼龙6"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(WORDS, max_size=6).map("".join), min_size=1, max_size=8),
       st.lists(WORDS, min_size=1, max_size=3))
def test_one_scan_finds_what_a_search_per_text_finds(texts, variants):
    pattern = re.compile(term_pattern([v for v in variants if v]))
    want = {i: m.group(0) for i, t in enumerate(texts) if (m := pattern.search(t))}
    assert first_matches(pattern, texts) == want


@pytest.fixture
def sqlite_store(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'tm.db'}") as store:
        yield store


def test_record_cache_serves_unchanged_records_and_rereads_changed_ones(sqlite_store):
    talents = [Talent(id=f"T{i}", name=f"人才{i}", category="专业技术") for i in range(4)]
    sqlite_store.upsert("talents", talents)
    cache = RecordCache(sqlite_store, "talents", size=3)
    first = cache.get_many(["T2", "T0", "T9", "T1"])
    assert list(first) == ["T2", "T0", "T1"]
    again = cache.get_many(["T0", "T1"])
    assert again["T0"] is first["T0"] and cache.hits == 2
    sqlite_store.upsert("talents", [talents[0].model_copy(update={"name": "改名"})])
    assert cache.get_many(["T0"])["T0"].name == "改名"
    cache.get_many(["T3"])
    assert len(cache) == 3
