"""An event shortlist reuses the latest pairing run's ranked edges (#13 item 9): the same
candidates and scores as a fresh ranking when nothing changed; a need, enterprise or talent
changed since the run, a run too old or with fewer edges per need is ranked afresh. The
batched retrieval of the needs ranked afresh gives the hits of one search per need."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from api import edges as edges_module
from api.application import Application
from api.edges import batched_hits, reusable_edges
from api.events import SAMPLE_EVENT
from api.workflows import RETRIEVE_K, Workflows
from data.store.tables import run_edges

NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def _workflows(app: Application) -> Workflows:
    wf = app.workflows()
    wf.matcher.now = NOW  # the freshness feature: the same clock for the run and the check
    return wf


def _fresh_edges(wf: Workflows, needs: list[Any], k: int) -> dict[str, list[tuple[str, float, str]]]:
    out: dict[str, list[tuple[str, float, str]]] = {n.id: [] for n in needs}
    for need in needs:
        result, _ = wf.ranked(need, k)
        out[need.id] = [(m.talent_id, max(float(m.score), 0.0), m.explanation)
                        for m in result.matches]
    return out


def _without_ranking(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k != "ranking"}


def test_shortlist_from_stored_edges_equals_a_fresh_ranking(prepared_fresh: Application) -> None:
    wf = _workflows(prepared_fresh)
    run = wf.pair_run(started_by="test")
    needs = wf.open_needs()
    run_id, stored = reusable_edges(wf, needs, 20, edges_module.enterprises_of(wf, needs))
    assert run_id == run["run_id"] and set(stored) == {n.id for n in needs}
    fresh = _fresh_edges(wf, needs, 20)
    assert stored == fresh  # same talents, order, scores (exactly) and explanations
    assert reusable_edges(wf, needs, 5, edges_module.enterprises_of(wf, needs))[1] == {
        n: e[:5] for n, e in fresh.items()}

    reused = wf.event_shortlist(SAMPLE_EVENT)
    computed = wf.event_shortlist(SAMPLE_EVENT, reuse=False)
    assert reused["ranking"] == {"reused_needs": len(needs), "ranked_needs": 0,
                                 "run_id": run["run_id"]}
    assert computed["ranking"] == {"reused_needs": 0, "ranked_needs": len(needs),
                                   "run_id": None}
    assert reused["entries"] and _without_ranking(reused) == _without_ranking(computed)


def test_a_need_changed_after_the_run_is_ranked_again(prepared_fresh: Application) -> None:
    wf = _workflows(prepared_fresh)
    run = wf.pair_run(started_by="test")
    needs = wf.open_needs()
    changed = needs[0].model_copy(update={"title": needs[0].title + "（储能电池热管理）"})
    prepared_fresh.store.upsert("needs" if changed.id.startswith("N") else "challenges",
                                [changed])
    needs = wf.open_needs()
    run_id, stored = reusable_edges(wf, needs, 20, edges_module.enterprises_of(wf, needs))
    assert run_id == run["run_id"] and changed.id not in stored
    assert set(stored) == {n.id for n in needs} - {changed.id}

    summary = wf.event_shortlist(SAMPLE_EVENT)
    assert summary["ranking"]["ranked_needs"] == 1
    assert _without_ranking(summary) == _without_ranking(
        wf.event_shortlist(SAMPLE_EVENT, reuse=False))


def test_a_changed_talent_or_an_old_run_is_not_reused(prepared_fresh: Application,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    wf = _workflows(prepared_fresh)
    wf.pair_run(started_by="test")
    needs = wf.open_needs()
    enterprises = edges_module.enterprises_of(wf, needs)
    assert len(reusable_edges(wf, needs, 20, enterprises)[1]) == len(needs)
    assert reusable_edges(wf, needs, 21, enterprises) == (None, {})  # the run kept 20
    monkeypatch.setattr(edges_module, "REUSE_MAX_AGE_S", -1.0)
    assert reusable_edges(wf, needs, 20, enterprises) == (None, {})
    monkeypatch.undo()
    store = prepared_fresh.store
    talent = next(iter(store.iter("talents")))
    store.upsert("talents", [talent.model_copy(update={"name": talent.name + "甲"})])
    assert reusable_edges(wf, needs, 20, enterprises) == (None, {})
    assert wf.event_shortlist(SAMPLE_EVENT)["ranking"]["reused_needs"] == 0


def test_only_the_latest_runs_edges_are_kept(prepared_fresh: Application) -> None:
    wf = _workflows(prepared_fresh)
    first = wf.pair_run(started_by="test")
    second = wf.pair_run(started_by="test")
    with prepared_fresh.store.engine.connect() as conn:
        kept = {r for (r,) in conn.execute(sa.select(run_edges.c.run_id).distinct())}
    assert kept == {second["run_id"]} and first["run_id"] != second["run_id"]
    assert prepared_fresh.store.get_run(second["run_id"])["result"]["edges"]["k"] == 20


def test_batched_retrieval_equals_one_search_per_need(prepared_fresh: Application,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from embeddings.render import need_text

    wf = _workflows(prepared_fresh)
    needs = wf.open_needs()
    monkeypatch.setattr(edges_module, "BATCH", 7)  # several blocks, the last one partial
    batched = list(batched_hits(wf, needs, RETRIEVE_K))
    single = [wf.index.talents_for(need_text(n), k=RETRIEVE_K) for n in needs]
    assert len(batched) == len(needs) and batched == single
