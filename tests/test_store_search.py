"""The store's word pre-filter for keyword search (issue #11), on SQLite and PostgreSQL."""

from __future__ import annotations

from data.store import Store


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
