"""The store's word pre-filter for keyword search (issue #11), on SQLite and PostgreSQL."""

from __future__ import annotations

from data.store import Store
from tests.factories import make_need


def _seed(store: Store) -> None:
    store.upsert("talents", [
        {"id": "T1", "name": "张伟", "category": "专业技术", "organisation": "平顶山学院",
         "contact": {"phone": "13800138000"}},
        {"id": "T2", "name": "李娜", "category": "专业技术", "organisation": "河南大学",
         "position": "100%_负责人"},
        {"id": "T3", "name": "王芳", "category": "专业技术", "organisation": "平顶山职业技术学院"},
    ])


def test_terms_narrow_in_sql(store: Store) -> None:
    _seed(store)
    ids = [t.id for t in store.iter_where("talents", {}, terms=["学院"])]
    assert ids == ["T1", "T3"]
    assert [t.id for t in store.iter_where("talents", {}, terms=["学院", "职业"])] == ["T3"]
    assert [t.id for t in store.iter_where("talents", {}, terms=["学院"], batch_size=1)] \
        == ["T1", "T3"]


def test_terms_never_see_contacts_and_are_escaped(store: Store) -> None:
    _seed(store)
    assert list(store.iter_where("talents", {}, terms=["13800138000"])) == []
    assert [t.id for t in store.iter_where("talents", {}, terms=["100%_"])] == ["T2"]
    assert list(store.iter_where("talents", {}, terms=["1_0%"])) == []


def _seed_owned(store: Store) -> None:
    _seed(store)
    store.upsert("talents", [
        {"id": "T4", "name": "赵强", "category": "专业技术", "organisation": "河南大学",
         "relatives": [{"name": "赵大山", "relation": "父亲"}]},
    ])


def test_search_counts_in_sql_and_pages_in_id_order(store: Store) -> None:
    _seed(store)
    total, page = store.search("talents", {}, ["学院"], limit=1, offset=1)
    assert total == 2 and [t.id for t in page] == ["T3"]
    total, page = store.search("talents", {}, [], limit=10, offset=0)
    assert total == 3 and [t.id for t in page] == ["T1", "T2", "T3"]
    assert store.search("talents", {}, ["13800138000"], 10, 0) == (0, [])
    # case-sensitive substring, no LIKE wildcards
    assert store.search("talents", {}, ["100%_"], 10, 0)[0] == 1
    assert store.search("talents", {}, ["1_0%"], 10, 0)[0] == 0


def test_masked_search_never_matches_hidden_fields(store: Store) -> None:
    _seed_owned(store)
    # staff see the employer and relatives
    assert store.search("talents", {}, ["河南大学"], 10, 0)[0] == 2
    assert store.search("talents", {}, ["赵大山"], 10, 0)[0] == 1
    # an enterprise without approved pairings sees neither
    assert store.search("talents", {}, ["河南大学"], 10, 0, masked_except=[]) == (0, [])
    assert store.search("talents", {}, ["赵大山"], 10, 0, masked_except=[]) == (0, [])
    assert store.search("talents", {}, ["赵强"], 10, 0, masked_except=[])[0] == 1
    # …except for its approved talents, whose full record it may search
    total, page = store.search("talents", {}, ["河南大学"], 10, 0, masked_except=["T4"])
    assert total == 1 and [t.id for t in page] == ["T4"]


def test_search_filters_by_owner(store: Store) -> None:
    store.upsert("enterprises", [{"id": "E1", "name": "甲公司"}, {"id": "E2", "name": "乙公司"}])
    store.upsert("needs", [
        make_need(1, title="煤化工技术攻关", enterprise_id="E1"),
        make_need(2, title="煤化工人才", enterprise_id="E2"),
    ])
    total, page = store.search("needs", {"enterprise_id": "E1"}, ["煤化工"], 10, 0)
    assert total == 1 and [n.id for n in page] == ["N0001"]
    assert store.search("needs", {}, ["煤化工"], 10, 0)[0] == 2


def test_migration_fills_search_columns_of_existing_rows(store: Store) -> None:
    from data.store import migrate

    _seed_owned(store)
    with store.engine.begin() as conn:
        migrate.downgrade(conn, "0006")  # the columns go, the records stay
    with store.engine.begin() as conn:
        migrate.upgrade(conn)  # 0007 computes them from each stored record
    assert store.search("talents", {}, ["河南大学"], 10, 0)[0] == 2
    assert store.search("talents", {}, ["河南大学"], 10, 0, masked_except=[])[0] == 0
    assert store.search("talents", {}, ["赵强"], 10, 0, masked_except=[])[0] == 1
