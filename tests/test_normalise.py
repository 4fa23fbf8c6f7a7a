"""data/normalise.py (#12): one set of rules for the importer and the service."""

from __future__ import annotations

from typing import Any

import pytest

from data.columns import COLUMNS
from data.normalise import NormaliseError, canonical_cell, normalise, vocab_fields
from data.taxonomy import (
    COMMON_VOCABS,
    entity_labels,
    kind_labels,
    load_taxonomy,
    work_group_labels,
)

TAX = load_taxonomy()


def test_every_vocabulary_of_the_column_table_is_applied() -> None:
    used = {c.vocab for columns in COLUMNS.values() for c in columns if c.vocab}
    assert used == {"city", "county", "tie", "category", "level", "chain", "intent",
                    "need_kind", "title", "project_status"}
    for entity in COLUMNS:
        assert set(vocab_fields(entity).values()) <= used


def test_a_talent_body_is_canonical_like_an_imported_row() -> None:
    body = {"id": "T1", "city": "平顶山市", "hometown_county": "宝丰", "ties": "平顶山籍、求学",
            "category": "专技人才", "level": "A类", "chains": ["尼龙新材料"],
            "intent": ["柔性引进"], "name": "张三"}
    out = normalise(body, TAX, "平顶山", "talents")
    assert out["city"] == "平顶山" and out["category"] == "专业技术" and out["level"] == "A"
    assert out["ties"] == ["籍贯", "成长经历"] and out["intent"] == ["柔性"]
    assert out["hometown_county"] == TAX.resolve("county", "宝丰", "平顶山")
    assert body["city"] == "平顶山市"  # the input is not modified


def test_need_kind_title_and_nested_fields() -> None:
    body = {"kind": "技术攻关", "min_title": "教授", "eligibility": {"min_level": "B类人才"}}
    out = normalise(body, TAX, "平顶山", "challenges")
    assert out == {"kind": "tech", "min_title": "正高级", "eligibility": {"min_level": "B"}}
    assert normalise({"status": "在谈"}, TAX, "平顶山", "projects") == {"status": "negotiating"}


def test_without_an_entity_ambiguous_fields_are_left_alone() -> None:
    assert "status" not in vocab_fields()  # a vocabulary for projects only
    assert normalise({"status": "open", "kind": "人才引进"}, TAX, "平顶山") == {
        "status": "open", "kind": "talent"}


def test_unknown_values_name_the_field() -> None:
    with pytest.raises(NormaliseError, match="字段 chains") as info:
        normalise({"chains": ["不存在的链"]}, TAX, "平顶山")
    assert info.value.field == "chains" and isinstance(info.value, ValueError)


def test_list_cells_drop_duplicates() -> None:
    assert canonical_cell(TAX, "level", ["A类", "A"], None) == ["A"]


def test_labels_come_from_the_taxonomy() -> None:
    assert "entity" in COMMON_VOCABS
    assert kind_labels() == {"tech": "技术攻关", "talent": "人才引进", "project": "项目合作",
                             "funding": "资金"}
    assert work_group_labels()["capital_return"] == "资金回归"
    assert entity_labels()["needs"] == "企业需求" and entity_labels("title")["needs"] == "需求"


def test_the_service_path_uses_the_same_rules() -> None:
    from types import SimpleNamespace

    from api.services.errors import Invalid
    from api.services.records import canonicalise

    app: Any = SimpleNamespace(taxonomy=TAX, settings=SimpleNamespace(city="平顶山"))
    body = {"level": "A类", "intent": ["柔性引进"], "ties": "平顶山籍", "kind": "人才引进",
            "chains": ["尼龙新材料"], "min_title": "教授"}
    assert canonicalise(app, body) == normalise(body, TAX, "平顶山") == {
        "level": "A", "intent": ["柔性"], "ties": ["籍贯"], "kind": "talent",
        "chains": ["尼龙新材料"], "min_title": "正高级"}
    with pytest.raises(Invalid, match="字段 level"):  # the service's 422, naming the field
        canonicalise(app, {"level": "Z"})


def test_the_service_path_knows_the_entity_so_all_ten_vocabularies_apply() -> None:
    from types import SimpleNamespace

    from api.services.records import canonicalise

    app: Any = SimpleNamespace(taxonomy=TAX, settings=SimpleNamespace(city="平顶山"))
    assert canonicalise(app, {"status": "洽谈中"}, "projects") == {"status": "negotiating"}
    # without the entity, status is left alone (its vocabulary differs between entities)
    assert canonicalise(app, {"status": "洽谈中"}) == {"status": "洽谈中"}
