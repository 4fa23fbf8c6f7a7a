"""Tests of the deterministic sample generator (data/sample) and the files it writes."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from data.columns import COLUMNS, parse_achievements
from data.io.exchange import read_needs, read_qrels, read_talents
from data.records import ENTITY_MODELS, MOBILE_RE
from data.sample import generate, write_sample
from data.sample.people import AS_OF
from data.sample.topics import DOMAIN_OF_CHAIN, TOPICS
from data.taxonomy import load_taxonomy
from tests._sample_fixture import default_sample, default_sample_dir

SMALL = {"n_talents": 300, "n_needs": 40}
TEXT_FILES = ("talents.csv", "enterprises.csv", "needs.csv", "challenges.csv", "projects.csv",
              "talents.jsonl", "needs.jsonl", "qrels.tsv")
LIST_FIELDS = {"ties", "disciplines", "research_directions", "chains", "intent", "avoid",
               "relatives", "required_expertise", "talent_ids", "eligibility.nationalities",
               "eligibility.regions"}


def read_csv_records(path: Path, entity: str, city: str) -> list[Any]:
    """A minimal importer: Chinese headers -> fields, taxonomy resolution, record validation."""
    tax = load_taxonomy()
    by_header = {c.zh: c for c in COLUMNS[entity]}
    records = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            data: dict[str, Any] = {}
            for header, cell in row.items():
                col = by_header[header]
                if cell is None or not cell.strip():
                    continue
                value: Any = cell
                if col.field == "achievements":
                    value = parse_achievements(cell)
                elif col.field in LIST_FIELDS:
                    value = [v for v in re.split(r"[、，,;；|\n]+", cell) if v.strip()]
                if col.vocab == "city":
                    value = tax.city(cell).name
                elif col.vocab:
                    vocab_city = city if col.vocab in ("county", "chain") else None
                    value = ([tax.resolve(col.vocab, v, vocab_city) for v in value]
                             if isinstance(value, list) else tax.resolve(col.vocab, value,
                                                                         vocab_city))
                head, _, tail = col.field.partition(".")
                if tail:
                    data.setdefault(head, {})[tail] = value
                else:
                    data[head] = value
            records.append(ENTITY_MODELS[entity].model_validate(data))
    return records


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    write_sample(generate(seed=7, **SMALL), tmp_path / "a")
    write_sample(generate(seed=7, **SMALL), tmp_path / "b")
    write_sample(generate(seed=8, **SMALL), tmp_path / "c")
    for name in TEXT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "talents.csv").read_bytes() != (tmp_path / "c" / "talents.csv"
                                                             ).read_bytes()
    assert (tmp_path / "a" / "qrels.tsv").read_bytes() != (tmp_path / "c" / "qrels.tsv"
                                                           ).read_bytes()


@pytest.mark.parametrize("entity", ["talents", "enterprises", "needs", "challenges", "projects"])
def test_every_csv_row_validates_and_round_trips(entity: str) -> None:
    data = default_sample()
    expected = {"talents": data.talents, "enterprises": data.enterprises, "needs": data.needs,
                "challenges": data.challenges, "projects": data.projects}[entity]
    got = read_csv_records(default_sample_dir() / f"{entity}.csv", entity, data.city)
    assert len(got) == len(expected) > 0
    for a, b in zip(got, expected, strict=True):
        assert a.model_dump() == b.model_dump(), a.id


def test_free_text_titles_resolve_through_the_title_vocabulary() -> None:
    tax = load_taxonomy()
    with open(default_sample_dir() / "talents.csv", encoding="utf-8-sig", newline="") as fh:
        titles = {row["职称"].strip() for row in csv.DictReader(fh) if row["职称"].strip()}
    assert len(titles) > 5
    for title in titles:
        tax.resolve("title", title)  # raises UnknownValueError if not accepted


def test_generate_refuses_needs_without_talents() -> None:
    with pytest.raises(ValueError, match="n_talents"):
        generate(n_talents=0, n_needs=5)


def test_csv_uses_chinese_headers_with_bom_and_aliases() -> None:
    raw = (default_sample_dir() / "talents.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw.decode("utf-8-sig").splitlines()[0].split(",")
    assert header == [c.zh for c in COLUMNS["talents"]]
    text = raw.decode("utf-8-sig")
    assert "专业技术人才" in text or "优秀专业技术人才" in text  # aliases, not only canonical
    assert "论文：" in text and "；" in text  # 主要成果 cell format


def test_xlsx_has_chinese_headers_and_all_rows() -> None:
    from openpyxl import load_workbook

    ws = load_workbook(default_sample_dir() / "talents.xlsx", read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == [c.zh for c in COLUMNS["talents"]]
    assert len(rows) == len(default_sample().talents) + 1


def test_qrels_ids_exist_and_every_need_has_relevant_talents() -> None:
    folder = default_sample_dir()
    qrels = read_qrels(folder / "qrels.tsv")
    need_ids = {n["id"] for n in read_needs(folder / "needs.jsonl")}
    talent_ids = {t["id"] for t in read_talents(folder / "talents.jsonl")}
    assert set(qrels) == need_ids
    for need_id, row in qrels.items():
        assert set(row) <= talent_ids
        assert set(row.values()) <= {1.0, 2.0}
        assert sum(1 for g in row.values() if g > 0) >= 1, need_id
    strong = [sum(1 for g in row.values() if g == 2) for row in qrels.values()]
    assert sum(s >= 3 for s in strong) >= 0.95 * len(strong)


def test_ground_truth_does_not_leak_into_files() -> None:
    folder = default_sample_dir()
    topic_ids = [t.id for ts in TOPICS.values() for t in ts]
    for name in TEXT_FILES:
        if name == "qrels.tsv":
            continue
        text = (folder / name).read_text(encoding="utf-8-sig")
        assert not any(tid in text for tid in topic_ids), name
        assert not re.search(r"\b(?:" + "|".join(TOPICS) + r")\.[a-z]", text), name
        assert "relevance" not in text and "qrels" not in text and "topic" not in text, name
    for row in read_talents(folder / "talents.jsonl")[:50]:
        assert not {"topics", "relevance", "grade"} & set(row)


def test_defaults_have_enough_challenges_with_eligibility() -> None:
    data = default_sample()
    assert len(data.needs) == 300 and len(data.talents) == 2000
    assert len(data.challenges) >= 40
    for c in data.challenges:
        assert c.list_no and c.funding and c.funding > 0
        assert c.eligibility.min_title in ("正高级", "副高级")
        assert c.eligibility.min_months_on_site is not None
        assert c.eligibility.min_months_on_site >= 3
    assert any(c.eligibility.min_level for c in data.challenges)


def test_realistic_profiles() -> None:
    data = default_sample()
    cats = Counter(t.category for t in data.talents)
    assert {c for c, _ in cats.most_common(2)} == {"专业技术", "企业经营管理"}
    assert len(cats) == 7
    assert any(t.organisation is None for t in data.talents)  # some missing fields
    assert any(t.contact is None or t.contact.email is None for t in data.talents)
    for t in data.talents:
        assert t.updated_at is not None
        assert AS_OF - timedelta(days=731) <= t.updated_at <= AS_OF
        if t.contact and t.contact.phone:
            assert MOBILE_RE.match(t.contact.phone) and t.contact.phone[:2] in ("13", "15", "18")
    assert sum(t.current_city in ("北京", "上海", "深圳", "郑州") for t in data.talents) > 500
    assert any(t.nationality != "中国" for t in data.talents)
    kinds = Counter(str(n.kind.value) for n in data.needs)
    assert set(kinds) == {"tech", "talent", "project", "funding"}
    statuses = Counter(str(p.status.value) for p in data.projects)
    assert set(statuses) == {"signed", "negotiating", "intended"}
    ids = {t.id for t in data.talents}
    assert all(p.talent_ids and set(p.talent_ids) <= ids for p in data.projects)


def test_nanyang_sample_uses_nanyang_taxonomy() -> None:
    data = generate(city="南阳", **SMALL)
    city = load_taxonomy().city("南阳")
    counties, chains = set(city.vocabs["county"].names), set(city.vocabs["chain"].names)
    assert all(t.hometown_county in counties for t in data.talents if t.hometown_county)
    assert all(set(t.chains) <= chains for t in data.talents)
    assert all(n.chain in chains and n.county in counties for n in data.all_needs())


def test_every_generator_chain_is_in_a_city_taxonomy() -> None:
    tax = load_taxonomy()
    chains = {n for c in tax.cities.values() for n in c.vocabs["chain"].names}
    assert chains == set(DOMAIN_OF_CHAIN)


@pytest.mark.slow
def test_library_scale_generation(tmp_path: Path) -> None:
    """A library-shaped sample (20,000 talents; the 114,000 of the programme's library are
    generated by ``talentmatch bench retrieval`` and ``benchmarks.bench_service``): every
    talent written once, under its own id, to jsonl and csv."""
    n = 20_000
    data = generate(n_talents=n)
    write_sample(data, tmp_path, xlsx=False)
    with open(tmp_path / "talents.jsonl", encoding="utf-8") as fh:
        ids = [json.loads(line)["id"] for line in fh]
    assert len(ids) == n and len(set(ids)) == n
    with open(tmp_path / "talents.csv", encoding="utf-8-sig") as fh:
        assert sum(1 for _ in csv.reader(fh)) == n + 1  # the header and a row each


# ---------------------------------------------------------------- BM25 non-triviality

STOPWORDS = frozenset("与的和及等不在是为对了")


def _tokens(text: str) -> list[str]:
    """jieba tokens, lower-cased, without punctuation and spaces."""
    import jieba

    jieba.setLogLevel(60)
    return [w.lower() for w in jieba.lcut(text) if any(ch.isalnum() for ch in w)]


def _talent_doc(row: dict[str, Any]) -> str:
    return " ".join([row["text"], *(f"{i['title']} {i['text']}" for i in row["items"])])


def _ndcg_at(ranked: list[str], grades: dict[str, float], k: int = 10) -> float:
    """nDCG@k with gains 2^g - 1 and log2 discounts (a tiny local implementation)."""
    import math

    dcg = sum((2 ** grades.get(t, 0) - 1) / math.log2(i + 2) for i, t in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


@pytest.fixture(scope="module")
def corpus() -> dict[str, Any]:
    folder = default_sample_dir()
    talents = read_talents(folder / "talents.jsonl")
    return {
        "ids": [t["id"] for t in talents],
        "docs": [_tokens(_talent_doc(t)) for t in talents],
        "needs": [(n["id"], _tokens(n["text"])) for n in read_needs(folder / "needs.jsonl")],
        "qrels": read_qrels(folder / "qrels.tsv"),
    }


def test_plain_bm25_is_useful_but_far_from_perfect(corpus: dict[str, Any]) -> None:
    """Plain BM25 (bm25s over jieba tokens) on the default sample: 0.1 < nDCG@10 < 0.9."""
    import bm25s
    import numpy as np

    retriever = bm25s.BM25()
    retriever.index(corpus["docs"], show_progress=False)
    vocab = retriever.vocab_dict
    ids = corpus["ids"]
    scores = []
    for need_id, query in corpus["needs"]:
        s = retriever.get_scores([w for w in query if w in vocab])
        top = np.argsort(-s, kind="stable")[:10]
        scores.append(_ndcg_at([ids[i] for i in top], corpus["qrels"][need_id]))
    ndcg = float(np.mean(scores))
    print(f"\nBM25 nDCG@10 on the default sample: {ndcg:.3f}")
    assert 0.1 < ndcg < 0.9


def test_no_single_shared_token_keys_the_relevant_talents(corpus: dict[str, Any]) -> None:
    """No literal token works as a key to a need's strongly relevant talents.

    For each need and each of its tokens t, look at the talents whose text contains t:
    precision = share of them that hold the need's primary topic (grade 2), coverage = share
    of the grade-2 talents that contain t. A "key" token has precision ≥ 0.8 and coverage
    ≥ 0.25: it alone would fetch a good part of the right people and almost nobody else,
    which is what a leak from a shared phrasing looks like (chain-level words such as the
    chain name or a discipline are shared with many non-relevant talents and so are not
    keys). At most 3 % of the needs may have a key token, by chance.
    """
    holders: dict[str, set[str]] = {}
    for tid, doc in zip(corpus["ids"], corpus["docs"], strict=True):
        for w in set(doc):
            holders.setdefault(w, set()).add(tid)
    keyed = []
    for need_id, query in corpus["needs"]:
        strong = {t for t, g in corpus["qrels"][need_id].items() if g == 2}
        for w in set(query) - STOPWORDS:
            docs = holders.get(w, set())
            hit = len(docs & strong)
            if hit and hit / len(docs) >= 0.8 and hit / len(strong) >= 0.25:
                keyed.append((need_id, w))
                break
    assert len(keyed) <= 0.03 * len(corpus["needs"]), keyed
