"""The store side of several cities on one installation (issue #14, item 3), on SQLite and
PostgreSQL: the account's city (migration 0010_user_city) and the SQL city filters of
records, suggestions and the audit trail."""

from __future__ import annotations

import sqlalchemy as sa

from data.store import Store
from tests.factories import (
    make_challenge,
    make_decision,
    make_need,
    make_suggestion,
    make_talent,
)


def test_an_account_keeps_its_city_and_old_accounts_are_unscoped(store: Store) -> None:
    scoped = store.add_user("ny-reviewer", "reviewer", work_group="tech_return", city="南阳")
    plain = store.add_user("province", "admin")
    assert scoped.city == "南阳" and plain.city is None
    assert store.get_user("ny-reviewer").city == "南阳"  # type: ignore[union-attr]
    assert store.get_user_by_id(plain.id).city is None  # type: ignore[union-attr]
    assert {u.username: u.city for u in store.list_users()} == {"ny-reviewer": "南阳",
                                                                "province": None}
    columns = {c["name"] for c in sa.inspect(store.engine).get_columns("users")}
    assert "city" in columns


def test_search_suggestions_and_audit_filter_by_city_in_sql(store: Store) -> None:
    store.upsert("needs", [make_need(1), make_need(2, city="南阳", county="卧龙区",
                                                     chain="数字光电", title="南阳需求")])
    store.upsert("challenges", [make_challenge(3, city="南阳")])
    store.upsert("talents", [make_talent(1), make_talent(2, city="南阳"),
                             make_talent(3, city="南阳")])
    store.add_suggestions([make_suggestion(1, need_id="N0001"),
                           make_suggestion(2, need_id="N0002"),
                           make_suggestion(3, need_id="C0003"),
                           make_suggestion(4, need_id="N0002", talent_id="T000001")])
    for sid in ("S0001", "S0002", "S0003"):
        store.decide(sid, 1, make_decision(sid, int(sid[1:])))
    total, found = store.search("needs", {"city": "南阳"}, ["需求"], 10, 0)
    assert total == 1 and [n.id for n in found] == ["N0002"]
    assert store.search("needs", {"city": "平顶山"}, ["南阳需求"], 10, 0)[0] == 0
    assert {s.id for s in store.suggestions(city="南阳")} == {"S0002", "S0003"}
    assert {s.id for s in store.suggestions(city="平顶山")} == {"S0001"}
    assert len(store.suggestions()) == 4  # S0004 pairs two cities: unscoped callers only
    assert {d["suggestion_id"] for d in store.audit(city="南阳")} == {"S0002", "S0003"}
    assert {d["suggestion_id"] for d in store.audit(city="平顶山")} == {"S0001"}


def test_the_import_journal_filters_by_the_starting_accounts_city(store: Store) -> None:
    store.add_user("ny-admin", "admin", city="南阳")
    store.add_user("pds-admin", "admin", city="平顶山")
    store.add_user("province", "admin")
    for who in ("ny-admin", "pds-admin", "province"):
        store.start_import({"entity": "talents", "file_name": f"{who}.csv",
                            "file_hash": who, "file_size": 1, "format": "csv",
                            "started_by": who})
    assert [i["started_by"] for i in store.imports(city="南阳")] == ["ny-admin"]
    assert [i["started_by"] for i in store.incomplete_imports(city="平顶山")] == ["pds-admin"]
    assert {i["started_by"] for i in store.imports()} == {"ny-admin", "pds-admin", "province"}
