"""The store's account tables, audit trail (from/to) and events (migration 0003), on
SQLite and PostgreSQL (the ``store`` fixture of conftest)."""

from __future__ import annotations

import datetime as dt

import pytest

from api.service.auth import create_user, token_hash, verify_password
from data.records import Decision, Suggestion, WorkGroup
from data.store import DuplicateIdError, NotFoundError, Store


def test_accounts_and_tokens(store: Store) -> None:
    user, token = create_user(store, "tech", "reviewer", password="secret-pw",
                              work_group="tech_return")
    assert store.user_by_token(token_hash(token)) == store.get_user("tech")
    assert store.user_by_token(token_hash(token + "x")) is None
    stored = store.get_user("tech")
    assert stored is not None and stored.password_hash != "secret-pw"
    assert verify_password(stored.password_hash, "secret-pw")
    assert not verify_password(stored.password_hash, "wrong")
    assert "password_hash" not in user.public()
    with pytest.raises(DuplicateIdError):
        store.add_user("tech", "admin")
    with pytest.raises(ValueError, match="work-group"):
        store.add_user("r2", "reviewer")
    with pytest.raises(ValueError, match="enterprise-id"):
        store.add_user("e2", "enterprise")
    assert store.set_user_disabled("tech").disabled
    with pytest.raises(NotFoundError):
        store.set_user_disabled("nobody")
    assert [u.username for u in store.list_users()] == ["tech"]


def test_audit_records_from_and_to(store: Store) -> None:
    store.upsert("needs", [{"id": "N1", "kind": "tech", "title": "需求"}])
    store.add_suggestions([Suggestion(id="S1", need_id="N1", talent_id="T1", score=0.5,
                                      work_group=WorkGroup.tech_return)])
    now = dt.datetime.now(dt.UTC)
    store.decide("S1", 1, Decision(id="D1", suggestion_id="S1", actor="a", action="defer",
                                   reason="再看看", at=now))
    store.decide("S1", 2, Decision(id="D2", suggestion_id="S1", actor="b", action="approve",
                                   reason="同意", at=now + dt.timedelta(seconds=1)))
    trail = store.audit(suggestion_id="S1")
    assert [(r["actor"], r["from_status"], r["to_status"]) for r in trail] == [
        ("b", "deferred", "approved"), ("a", "proposed", "deferred")]
    assert store.audit(work_group="talent_return") == []
    assert [d.id for d in store.decisions("S1")] == ["D1", "D2"]


def test_events_round_trip(store: Store) -> None:
    store.put_event({"id": "EV1", "name": "对接会"})
    store.put_event({"id": "EV1", "name": "对接会（改）"})
    assert store.get_event("EV1") == {"id": "EV1", "name": "对接会（改）"}
    assert [e["id"] for e in store.list_events()] == ["EV1"]
    assert store.delete_event("EV1") == 1 and store.get_event("EV1") is None
