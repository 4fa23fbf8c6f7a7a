"""The store split by concern (#12): each part on its own, typed runs and events, and the
composed ``Store`` keeping the shapes its callers know. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from data.records import Event, Run, Suggestion
from data.store import (
    AccountStore,
    EventStore,
    JobStore,
    RecordStore,
    ReviewStore,
    Store,
)
from tests.factories import make_talent


def test_store_is_composed_of_its_parts(store: Store) -> None:
    assert isinstance(store.records, RecordStore) and isinstance(store.reviews, ReviewStore)
    assert isinstance(store.accounts, AccountStore) and isinstance(store.events, EventStore)
    assert isinstance(store.job_queue, JobStore)
    talent = make_talent(1)
    store.records.upsert("talents", [talent])
    assert store.get("talents", talent.id) is not None
    user = store.accounts.add_user("part-admin", "admin")
    assert store.get_user("part-admin") == user


def test_a_part_works_on_its_own_engine(store: Store) -> None:
    events = EventStore(store.engine)
    events.put_event(Event(id="EV9", name="对接会", capacity=20))
    assert store.get_event("EV9") == {"id": "EV9", "name": "对接会", "capacity": 20}


def test_runs_are_typed_records(store: Store) -> None:
    suggestion = Suggestion(id="S1", need_id="N1", talent_id="T1", score=0.5, run_id="R1",
                            work_group="tech_return")
    added = store.reviews.add_run(
        Run(id="R1", kind="pairing", params={"k": 5}, solver="flow", objective=2.0,
            result={"messages": []}), [suggestion])
    assert added == {"added": 1, "kept_open": []}
    run = store.reviews.get_run("R1")
    assert isinstance(run, Run) and run.params == {"k": 5} and run.partial is False
    assert isinstance(run.created_at, dt.datetime)
    assert [r.id for r in store.reviews.runs("pairing")] == ["R1"]
    legacy = store.get_run("R1")
    assert legacy is not None and legacy["solver"] == "flow" and legacy["result"] == {
        "messages": []}


def test_events_are_typed_records(store: Store) -> None:
    store.put_event({"id": "EV1", "name": "对接会", "time_slots": ["09:00-09:30"]})
    event = store.events.get_event("EV1")
    assert isinstance(event, Event) and event.time_slots == ["09:00-09:30"]
    assert event.capacity == 100  # the default, not stored
    assert [e.id for e in store.events.list_events()] == ["EV1"]
    assert store.list_events() == [{"id": "EV1", "name": "对接会",
                                    "time_slots": ["09:00-09:30"]}]
