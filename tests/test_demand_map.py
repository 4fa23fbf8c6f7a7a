"""The demand map's analytics on hand-made inputs (no store, no index)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from api.demand_export import view_for_role
from data.records import Challenge, Need
from matching.clusters import NeedDoc, choose_k, expertise_clusters, label_clusters
from matching.demand_map import (
    Candidate,
    TalentInfo,
    apply_previous,
    build_demand_map,
    need_weight,
    quantile_threshold,
    snapshot,
)

TODAY = dt.date(2026, 1, 1)
COUNTIES = ["新华区", "卫东区", "汝州市"]


def need(i: str, chain: str = "尼龙新材料", county: str = "新华区", **kw: object) -> Need:
    return Need(id=i, kind=kw.pop("kind", "tech"), title=f"需求{i}", chain=chain, county=county,
                **kw)  # type: ignore[arg-type]


def talent(i: str, level: str | None = None, home: str | None = None,
           cur: str | None = "平顶山", intent: tuple[str, ...] = ("全职",)) -> TalentInfo:
    return TalentInfo(i, "专业技术", level, home, cur, intent)


@pytest.fixture()
def inputs() -> tuple[list[Need], dict[str, list[Candidate]], dict[str, TalentInfo]]:
    needs = [need("N1"), need("N2"), need("N3", chain="特高压电气", county="汝州市"),
             need("N4", chain="特高压电气", county="汝州市")]
    req = ("尼龙66", "纺丝")
    cands = {
        "N1": [Candidate("T1", 0.7, ("尼龙66", "纺丝"), req), Candidate("T2", 0.6, ("尼龙66",), req)],
        "N2": [Candidate("T2", 0.4, ("尼龙66",), req), Candidate("T3", 0.3, (), req)],
        "N3": [Candidate("T4", 0.9, (), ()), Candidate("T5", 0.2, (), ())],
        "N4": [],
    }
    talents = {"T1": talent("T1", home="新华区"), "T2": talent("T2", intent=("柔性",)),
               "T3": talent("T3"), "T4": talent("T4", level="A", cur="北京"),
               "T5": talent("T5")}
    return needs, cands, talents


def test_need_weight_formula() -> None:
    assert need_weight(need("A"), TODAY) == pytest.approx(1.0)
    assert need_weight(need("A", kind="funding"), TODAY) == pytest.approx(0.6)
    soon = need("A", deadline=TODAY + dt.timedelta(days=90))
    assert need_weight(soon, TODAY) == pytest.approx(1.5)
    late = need("A", deadline=TODAY - dt.timedelta(days=3))
    assert need_weight(late, TODAY) == pytest.approx(2.0)
    rich = need("A", budget=900.0)
    assert need_weight(rich, TODAY) == pytest.approx(1 + math.log10(10))
    ch = Challenge(id="C1", title="榜单", funding=100.0)
    assert need_weight(ch, TODAY) == pytest.approx(1.5 * (1 + math.log10(2)))


def test_cells_scarcity_and_totals(inputs: tuple) -> None:
    needs, cands, talents = inputs
    dm = build_demand_map(needs, cands, talents, threshold=0.5, counties=COUNTIES, today=TODAY)
    assert dm.totals["needs"] == 4 == sum(c.needs for c in dm.cells)
    by_key = {(c.key["chain"], c.key["county"]): c for c in dm.cells}
    nylon = by_key[("尼龙新材料", "新华区")]
    # N1 has 2 strong talents (1/3 weight), N2 none (full weight)
    assert nylon.scarcity == pytest.approx(1 / 3 + 1, abs=1e-4)
    assert nylon.strong_talents == 2 and nylon.covered == 1
    assert nylon.supply["tie"] == {"归根(籍贯在本市)": 1, "无籍贯联系": 1}
    assert nylon.supply["intent"] == {"全职": 1, "柔性": 1}
    uhv = by_key[("特高压电气", "汝州市")]
    assert uhv.scarcity == pytest.approx(0.5 + 1, abs=1e-4)
    assert dm.totals["scarcity"] == pytest.approx(nylon.scarcity + uhv.scarcity, abs=1e-3)
    assert dm.cells[0] is uhv  # sorted by scarcity


def test_scarce_list_and_missing_terms(inputs: tuple) -> None:
    needs, cands, talents = inputs
    dm = build_demand_map(needs, cands, talents, threshold=0.5, counties=COUNTIES, today=TODAY)
    ids = {s["need_id"] for s in dm.scarce}
    assert ids == {"N2", "N4"}
    n2 = next(s for s in dm.scarce if s["need_id"] == "N2")
    assert n2["nearest"][0] == {"talent_id": "T2", "score": 0.4, "missing_terms": ["纺丝"]}
    assert n2["nearest"][1]["missing_terms"] == ["尼龙66", "纺丝"]


def test_high_end_cells_are_met_only_by_a_few_ab_level_talents(inputs: tuple) -> None:
    needs, cands, talents = inputs
    dm = build_demand_map(needs, cands, talents, threshold=0.5, counties=COUNTIES, today=TODAY)
    assert [h["label"] for h in dm.high_end] == ["特高压电气 / 汝州市"]
    assert dm.high_end[0]["talent_ids"] == ["T4"]


def _library(seed: int) -> tuple[list[Need], dict[str, list[Candidate]], dict[str, TalentInfo]]:
    """A 归根-like library: almost every talent lives outside the city; levels as in the
    sample (A 3 %, B 8 %, C 15 %, none 74 % of 专业技术 talents)."""
    import random

    rng = random.Random(seed)
    talents = {f"T{i}": talent(f"T{i}", level=rng.choices(("A", "B", "C", None),
                                                           (3, 8, 15, 74))[0],
                               home=rng.choice(COUNTIES), cur=rng.choice(("北京", "上海", "郑州")))
               for i in range(300)}
    chains = ("尼龙新材料", "特高压电气", "钧瓷文旅", "煤焦化工", "装备制造", "新能源")
    needs, cands = [], {}
    for i in range(120):
        n = need(f"N{i}", chain=rng.choice(chains), county=rng.choice(COUNTIES))
        needs.append(n)
        pool = rng.sample(sorted(talents), 10)
        cands[n.id] = [Candidate(t, rng.random() ** 3, (), ()) for t in pool]
    return needs, cands, talents


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_high_end_selects_a_minority_of_cells(seed: int) -> None:
    needs, cands, talents = _library(seed)
    dm = build_demand_map(needs, cands, talents, threshold=0.6, counties=COUNTIES, today=TODAY)
    supplied = [c for c in dm.cells if c.strong_talents]
    assert supplied
    # the old rule ("A/B or out of city") took every supplied cell in such a library
    assert all(all(talents[t].current_city != "平顶山" for t in c.talent_ids) for c in supplied)
    assert len(dm.high_end) < len(supplied) / 2, (len(dm.high_end), len(supplied))
    for h in dm.high_end:
        assert 1 <= h["strong_talents"] <= 3
        assert all(talents[t].level in ("A", "B") for t in h["talent_ids"])


def test_by_cluster_and_bad_dimension(inputs: tuple) -> None:
    needs, cands, talents = inputs
    clusters = {"N1": "纺丝", "N2": "纺丝", "N3": "开关", "N4": "开关"}
    dm = build_demand_map(needs, cands, talents, by=("cluster",), clusters=clusters,
                          threshold=0.5, today=TODAY)
    assert sorted(c.key["cluster"] for c in dm.cells) == ["开关", "纺丝"]
    with pytest.raises(ValueError, match="--by"):
        build_demand_map(needs, cands, talents, by=("province",))


def test_snapshot_change(inputs: tuple) -> None:
    needs, cands, talents = inputs
    before = build_demand_map(needs, cands, talents, threshold=0.5, today=TODAY)
    after = build_demand_map(needs, cands, talents, threshold=0.8, today=TODAY)
    snap = snapshot(before)
    assert "T1" not in str(snap) and "N1" not in str(snap)
    apply_previous(after, snap, "D1")
    assert after.previous == "D1"
    assert after.totals["scarcity_change"] == pytest.approx(
        after.totals["scarcity"] - before.totals["scarcity"])
    assert any(c.change and c.change > 0 for c in after.cells)


def test_quantile_threshold(inputs: tuple) -> None:
    _, cands, _ = inputs
    assert quantile_threshold(cands, 0.0) == pytest.approx(0.2)
    assert quantile_threshold(cands, 1.0) == pytest.approx(0.9)
    assert quantile_threshold({}, 0.9) == 0.0


def test_enterprise_view_has_no_identities(inputs: tuple) -> None:
    needs, cands, talents = inputs
    data = build_demand_map(needs, cands, talents, threshold=0.5, today=TODAY).to_dict()
    text = str(view_for_role(data, "enterprise"))
    assert not any(f"T{i}" in text for i in range(1, 6))
    assert "T4" in str(view_for_role(data, "admin"))


def test_clusters_group_vectors_and_label_from_terms() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2, 16))
    docs, vectors = [], {}
    for i in range(12):
        c = i % 2
        word = "尼龙66" if c == 0 else "断路器"
        docs.append(NeedDoc(f"N{i}", f"需要{word}方面的专家"))
        vectors[f"N{i}"] = centres[c] + 0.01 * rng.normal(size=16)
    docs.append(NeedDoc("NX", "尼龙66 改性"))  # no vector: joins by terms
    labels = expertise_clusters(docs, vectors, ["尼龙66", "断路器", "纺丝"], k=2)
    assert labels["N0"] != labels["N1"]
    assert "尼龙66" in labels["N0"] and "断路器" in labels["N1"]
    assert labels["NX"] == labels["N0"]
    assert choose_k(300) == 12 and choose_k(30) == 4 and choose_k(1) == 1
    assert label_clusters([[], []], np.array([0, 1])) == {0: "其他专业", 1: "其他专业′"}
