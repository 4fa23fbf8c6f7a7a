"""Taxonomies as editable data files, and the resolver that canonicalises values.

The files live beside this module:

- ``common.yaml``: vocabularies shared by every city (talent categories, levels, need
  kinds, work groups, intents, ties, titles, project statuses, the kind ↔ category fit).
- ``cities/<slug>.yaml``: one file per city (counties and districts, industry clusters and
  chains, with a domain term list per chain for the tokenizer).

Every vocabulary entry has a canonical ``name`` (what is stored) and ``aliases`` (what is
accepted: the seeds' full names and common short forms). Matching ignores case, spaces and
full-width/half-width differences. An unknown value raises :class:`UnknownValueError`, which
lists the accepted names.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TAXONOMY_DIR = Path(__file__).resolve().parent

COMMON_VOCABS = (
    "category",
    "level",
    "need_kind",
    "work_group",
    "intent",
    "tie",
    "title",
    "project_status",
    "entity",
)
CITY_VOCABS = ("county", "chain", "cluster")


class UnknownValueError(ValueError):
    """A value that no vocabulary entry accepts."""

    def __init__(self, vocab: str, value: str, accepted: list[str]) -> None:
        self.vocab = vocab
        self.value = value
        self.accepted = accepted
        shown = "、".join(accepted[:40]) + ("…" if len(accepted) > 40 else "")
        super().__init__(f"未知的{VOCAB_LABELS.get(vocab, vocab)}「{value}」；可接受：{shown}")


VOCAB_LABELS = {
    "category": "人才类别",
    "level": "人才层次",
    "need_kind": "需求类型",
    "work_group": "工作小组",
    "intent": "回乡意愿",
    "tie": "归根联系",
    "title": "职称",
    "project_status": "项目状态",
    "county": "县（市、区）",
    "chain": "产业链",
    "cluster": "产业集群",
    "city": "城市",
    "entity": "数据类型",
}


def normalise_key(value: str) -> str:
    """Fold a value for matching: NFKC, lower case, no spaces or separators."""
    folded = unicodedata.normalize("NFKC", str(value)).lower()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "·-_")


@dataclass
class Vocabulary:
    """One vocabulary: canonical names, their aliases and extra attributes."""

    name: str
    entries: list[dict[str, Any]]
    _index: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for entry in self.entries:
            canonical = str(entry["name"])
            keys = [canonical, *[str(a) for a in entry.get("aliases", [])]]
            if "label" in entry:
                keys.append(str(entry["label"]))
            for key in keys:
                self._index.setdefault(normalise_key(key), canonical)

    @property
    def names(self) -> list[str]:
        """Canonical names in file order."""
        return [str(e["name"]) for e in self.entries]

    def accepted(self) -> list[str]:
        """Canonical names with their labels, for error messages."""
        out = []
        for e in self.entries:
            label = e.get("label")
            out.append(f"{e['name']}({label})" if label else str(e["name"]))
        return out

    def lookup(self, value: str) -> str | None:
        """Canonical name for ``value``, or None."""
        return self._index.get(normalise_key(value))

    def labels(self, key: str = "label") -> dict[str, str]:
        """Canonical name → its ``key`` attribute (``label`` by default; the name if none)."""
        return {str(e["name"]): str(e.get(key, e.get("label", e["name"]))) for e in self.entries}

    def entry(self, name: str) -> dict[str, Any]:
        """The full entry of a canonical name."""
        for e in self.entries:
            if e["name"] == name:
                return e
        raise KeyError(name)


@dataclass
class City:
    """A programme city's own taxonomy."""

    slug: str
    name: str
    aliases: list[str]
    vocabs: dict[str, Vocabulary]

    def chain_terms(self) -> dict[str, list[str]]:
        """Domain term list per chain, for the tokenizer's user dictionary."""
        return {str(e["name"]): list(e.get("terms", [])) for e in self.vocabs["chain"].entries}


class Taxonomy:
    """All vocabularies, loaded from the YAML files of a folder."""

    def __init__(self, common: dict[str, Vocabulary], cities: dict[str, City],
                 extra: dict[str, Any]) -> None:
        self.common = common
        self.cities = cities
        self.extra = extra
        self._city_index = {
            normalise_key(k): c.name for c in cities.values() for k in [c.name, c.slug, *c.aliases]
        }

    @classmethod
    def load(cls, folder: Path | None = None) -> Taxonomy:
        """Read ``common.yaml`` and ``cities/*.yaml`` from ``folder`` (default: bundled)."""
        folder = folder or TAXONOMY_DIR
        raw = yaml.safe_load((folder / "common.yaml").read_text(encoding="utf-8"))
        common = {v: Vocabulary(v, raw.get(v, [])) for v in COMMON_VOCABS}
        extra = {k: v for k, v in raw.items() if k not in COMMON_VOCABS}
        cities: dict[str, City] = {}
        for path in sorted((folder / "cities").glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            vocabs = {v: Vocabulary(v, data.get(v + "s" if v != "county" else "counties", []))
                      for v in CITY_VOCABS}
            city = City(path.stem, str(data["city"]), list(data.get("aliases", [])), vocabs)
            cities[city.name] = city
        return cls(common, cities, extra)

    def city(self, value: str) -> City:
        """The city for a name, slug or alias."""
        name = self._city_index.get(normalise_key(value))
        if name is None:
            raise UnknownValueError("city", value, [c.name for c in self.cities.values()])
        return self.cities[name]

    def vocabulary(self, vocab: str, city: str | None = None) -> Vocabulary:
        """A common vocabulary, or a city vocabulary (county / chain / cluster)."""
        if vocab in COMMON_VOCABS:
            return self.common[vocab]
        if vocab in CITY_VOCABS:
            if city is None:
                entries = [e for c in self.cities.values() for e in c.vocabs[vocab].entries]
                return Vocabulary(vocab, entries)
            return self.city(city).vocabs[vocab]
        raise KeyError(f"no vocabulary named {vocab!r}")

    def resolve(self, vocab: str, value: str, city: str | None = None) -> str:
        """Canonical name for ``value`` in ``vocab``.

        Args:
            vocab: a vocabulary name, e.g. ``"category"`` or ``"chain"``.
            value: the value as written in a file.
            city: the programme city, for city vocabularies (None searches all cities).

        Returns:
            The canonical name.

        Raises:
            UnknownValueError: no entry accepts the value; the message lists the accepted names.
        """
        voc = self.vocabulary(vocab, city)
        found = voc.lookup(value)
        if found is None:
            raise UnknownValueError(vocab, value, voc.accepted())
        return found

    def chain_terms(self, city: str | None = None) -> dict[str, list[str]]:
        """Domain term lists per chain for one city, or merged over all cities."""
        cities = [self.city(city)] if city else list(self.cities.values())
        merged: dict[str, list[str]] = {}
        for c in cities:
            for chain, terms in c.chain_terms().items():
                merged.setdefault(chain, []).extend(t for t in terms if t not in merged[chain])
        return merged

    def all_terms(self) -> list[str]:
        """Every domain term and canonical chain/category name, for a user dictionary."""
        terms: list[str] = []
        for chain, items in self.chain_terms().items():
            terms.append(chain)
            terms.extend(items)
        for vocab in ("category", "title"):
            terms.extend(self.common[vocab].names)
        return list(dict.fromkeys(t for t in terms if t))


@lru_cache(maxsize=4)
def load_taxonomy(folder: str | None = None) -> Taxonomy:
    """The taxonomy of ``folder`` (default: the bundled files), cached."""
    return Taxonomy.load(Path(folder) if folder else None)


def kind_labels() -> dict[str, str]:
    """Need kind → Chinese label (tech → 技术攻关), from the bundled taxonomy."""
    return load_taxonomy().common["need_kind"].labels()


def work_group_labels() -> dict[str, str]:
    """Work group → Chinese label (tech_return → 技术回归), from the bundled taxonomy."""
    return load_taxonomy().common["work_group"].labels()


def entity_labels(key: str = "label") -> dict[str, str]:
    """Entity → Chinese name, from the bundled taxonomy.

    Args:
        key: ``label`` (import/export wording: 企业需求, 项目 …) or ``title`` (the service's
            wording: 需求, 归根项目 …).
    """
    return load_taxonomy().common["entity"].labels(key)
