"""Tests of the city taxonomy files (data/taxonomy/cities/*.yaml) through the loader."""

from __future__ import annotations

import pytest

from data.taxonomy import UnknownValueError, load_taxonomy, normalise_key


@pytest.mark.parametrize("value", ["优秀专业技术人才", "专业技术人才", "专业技术", "专技人才"])
def test_category_aliases_resolve(value: str) -> None:
    assert load_taxonomy().resolve("category", value) == "专业技术"


@pytest.mark.parametrize(("city", "value", "canonical"), [
    ("平顶山", "宝丰", "宝丰县"), ("平顶山", " 宝丰县 ", "宝丰县"), ("平顶山", "郟县", "郏县"),
    ("平顶山市", "汝州", "汝州市"), ("鹰城", "示范区", "城乡一体化示范区"),
    ("南阳", "邓州", "邓州市"), ("南阳市", "卧龙", "卧龙区"), ("南阳", "淅川", "淅川县"),
])
def test_county_aliases_resolve(city: str, value: str, canonical: str) -> None:
    assert load_taxonomy().resolve("county", value, city) == canonical


@pytest.mark.parametrize(("city", "value", "canonical"), [
    ("平顶山", "尼龙", "尼龙新材料"), ("平顶山", "PA 尼龙化工", None), ("平顶山", "特高压", "特高压电气"),
    ("平顶山", "不锈钢", "特宽厚钢"), ("平顶山", "煤基化工", "煤化工"), ("平顶山", "钧瓷", "钧瓷文旅"),
    ("平顶山", "绿色食品", "农产品加工"), ("平顶山", "医药", "生物医药"), ("南阳", "装备制造", "高端装备"),
    ("南阳", "光电", "数字光电"), ("南阳", "中医药", "生物医药"),
])
def test_chain_aliases_resolve(city: str, value: str, canonical: str | None) -> None:
    tax = load_taxonomy()
    if canonical is None:
        with pytest.raises(UnknownValueError):
            tax.resolve("chain", value, city)
    else:
        assert tax.resolve("chain", value, city) == canonical


def test_unknown_county_lists_accepted_values() -> None:
    with pytest.raises(UnknownValueError) as err:
        load_taxonomy().resolve("county", "火星区", "平顶山")
    message = str(err.value)
    assert "火星区" in message and "县（市、区）" in message
    for name in ("宝丰县", "舞钢市", "郏县", "鲁山县", "叶县", "高新区"):
        assert name in message
    assert "宝丰县" in err.value.accepted


def test_cities_and_their_aliases() -> None:
    tax = load_taxonomy()
    assert tax.city("鹰城").name == "平顶山"
    assert tax.city("pingdingshan").name == "平顶山"
    assert tax.city("南阳市").name == "南阳"
    assert len(tax.city("南阳").vocabs["county"].names) >= 13


def test_pingdingshan_counties_from_seed_000() -> None:
    names = load_taxonomy().city("平顶山").vocabs["county"].names
    assert set(names) == {"舞钢市", "汝州市", "宝丰县", "郏县", "鲁山县", "叶县", "新华区", "卫东区",
                          "湛河区", "石龙区", "城乡一体化示范区", "高新区"}


def test_every_chain_has_20_to_40_distinct_terms() -> None:
    for city in load_taxonomy().cities.values():
        for chain, terms in city.chain_terms().items():
            assert 20 <= len(terms) <= 40, (city.name, chain, len(terms))
            assert len(set(terms)) == len(terms), (city.name, chain)
            assert all(isinstance(t, str) and t.strip() for t in terms)


def test_clusters_and_chains_refer_to_each_other() -> None:
    for city in load_taxonomy().cities.values():
        chains = city.vocabs["chain"]
        clusters = city.vocabs["cluster"]
        for cluster in clusters.entries:
            assert all(ch in chains.names for ch in cluster["chains"]), cluster["name"]
        for chain in chains.entries:
            assert chain["cluster"] in clusters.names, chain["name"]
            assert any(chain["name"] in c["chains"] for c in clusters.entries), chain["name"]


@pytest.mark.parametrize("vocab", ["county", "chain", "cluster"])
def test_aliases_are_unambiguous_within_and_across_cities(vocab: str) -> None:
    """An alias maps to one entry in its city, and the city-less lookup agrees with it."""
    tax = load_taxonomy()
    merged = tax.vocabulary(vocab)
    for city in tax.cities.values():
        owner: dict[str, str] = {}
        for entry in city.vocabs[vocab].entries:
            for key in [entry["name"], *entry.get("aliases", [])]:
                k = normalise_key(key)
                assert owner.setdefault(k, entry["name"]) == entry["name"], (city.name, key)
                assert merged.lookup(key) == entry["name"], (city.name, key)
