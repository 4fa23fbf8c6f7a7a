"""Plain lookup tables for matching, built once by the caller from the taxonomy.

:mod:`matching` reads no files: whoever builds a matcher calls
``MatchingTables.from_taxonomy(load_taxonomy())`` (or builds :class:`MatchingTables` by hand
in tests) and passes the object in. Every key that is looked up is folded with :func:`norm`
(NFKC, lower case, no spaces or ``·-_``), the same folding as the taxonomy resolver.

Tables:

- ``kind_fit``: need kind → talent category → fit in [0, 1] (``common.yaml``'s ``kind_fit``).
- ``title_ranks``: folded 职称 name or alias → rank (正高级 4 … 无 0); ``title_names``: rank →
  canonical name. :meth:`MatchingTables.title_rank` also reads free text (「二级教授」).
- ``level_ranks``: folded level name or alias → rank (A 3 > B 2 > C 1, from the file order);
  ``level_names``: rank → canonical name.
- ``chain_terms``: chain → domain terms; ``chain_aliases``: chain → its name and aliases.
- ``synonyms``: groups of interchangeable terms for coverage matching (:data:`DEFAULT_SYNONYMS`
  plus, per chain, its name with those aliases that are not domain terms themselves: an alias
  such as 「光伏」 of 新能源 is a term of its own and must not stand in for 「储能」).
- ``city_counties``: city → its counties; ``city_index``: folded city name/alias → city;
  ``city_abbrev``: city → one-character short name (平顶山 → 平, 南阳 → 宛) for 「每年在平…」.
- ``intents``: folded intent alias → canonical intent (全职 / 柔性 / …).
- ``kind_labels``: need kind → Chinese label (tech → 技术攻关); by default the taxonomy's
  (:func:`data.taxonomy.kind_labels`, the one source of these labels).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only; matching reads no files itself
    from data.taxonomy import Taxonomy

DEFAULT_SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("尼龙66", "PA66", "聚酰胺66"),
    ("尼龙6", "PA6", "聚酰胺6"),
    ("聚酰胺", "尼龙"),
    ("GIS", "气体绝缘开关", "气体绝缘金属封闭开关"),
    ("IVD", "体外诊断"),
    ("BMS", "电池管理系统"),
    ("PCB", "印制电路板"),
    ("VOCs", "挥发性有机物"),
    ("CCUS", "碳捕集"),
    ("PSA", "变压吸附"),
    ("TMCP", "控轧控冷"),
    ("人工智能", "AI"),
)
"""Small hand-made synonym groups (reasoned, not from the seeds); extend freely."""

def default_kind_labels() -> dict[str, str]:
    """The bundled taxonomy's need-kind labels (read by :mod:`data.taxonomy`, not here)."""
    from data.taxonomy import kind_labels

    return kind_labels()


def norm(value: object) -> str:
    """Fold a value for matching: NFKC, lower case, no whitespace or ``·-_``.

    Args:
        value: any value (converted with ``str``).

    Returns:
        The folded string (empty for ``None``).
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return _fold(text) if len(text) <= FOLD_CACHE_MAX_CHARS else _fold_text(text)


FOLD_CACHE_MAX_CHARS = 64
"""Texts up to this long are folded through the cache (names, terms, titles); longer ones
(a talent's expertise texts, folded once per talent by :mod:`matching.pool`) are not kept."""


def _fold_text(text: str) -> str:
    return _DROP.sub("", unicodedata.normalize("NFKC", text).lower())


@lru_cache(maxsize=65_536)
def _fold(text: str) -> str:
    """:func:`norm` of a short text, cached (bounded): ranking folds the same names and terms
    for every pair of a batch."""
    return _fold_text(text)


_DROP = re.compile(r"[\s·\-_]+")
_ALNUM = "a-z0-9"


def term_pattern(variants: list[str]) -> str:
    """A regex source matching any folded variant, longest first, with alnum boundaries.

    A variant that starts (ends) with a Latin letter or digit must not be preceded (followed)
    by one, so 「尼龙6」 does not match inside 「尼龙66」 and 「PA6」 not inside 「PA66」.

    Args:
        variants: folded (see :func:`norm`) non-empty strings.

    Returns:
        The regex source (an alternation).
    """
    alts = []
    for v in sorted(set(variants), key=lambda s: (-len(s), s)):
        pre = f"(?<![{_ALNUM}])" if re.match(f"[{_ALNUM}]", v) else ""
        post = f"(?![{_ALNUM}])" if re.search(f"[{_ALNUM}]$", v) else ""
        alts.append(pre + re.escape(v) + post)
    return "|".join(alts)


@dataclass
class MatchingTables:
    """The plain tables that features, rules and explanations read (see the module doc)."""

    kind_fit: dict[str, dict[str, float]] = field(default_factory=dict)
    title_ranks: dict[str, int] = field(default_factory=dict)
    title_names: dict[int, str] = field(default_factory=dict)
    level_ranks: dict[str, int] = field(default_factory=dict)
    level_names: dict[int, str] = field(default_factory=dict)
    chain_terms: dict[str, list[str]] = field(default_factory=dict)
    chain_aliases: dict[str, list[str]] = field(default_factory=dict)
    synonyms: list[list[str]] = field(default_factory=list)
    city_counties: dict[str, list[str]] = field(default_factory=dict)
    city_index: dict[str, str] = field(default_factory=dict)
    city_abbrev: dict[str, str] = field(default_factory=dict)
    intents: dict[str, str] = field(default_factory=dict)
    kind_labels: dict[str, str] = field(default_factory=default_kind_labels)
    _synonym_index: dict[str, list[str]] = field(default_factory=dict, init=False, repr=False)
    _title_keys: list[str] = field(default_factory=list, init=False, repr=False)
    _chain_index: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.title_ranks = {norm(k): v for k, v in self.title_ranks.items()}
        self.level_ranks = {norm(k): v for k, v in self.level_ranks.items()}
        self.intents = {norm(k): v for k, v in self.intents.items()}
        self.city_index = {norm(k): v for k, v in self.city_index.items()}
        for name in self.city_counties:
            self.city_index.setdefault(norm(name), name)
        self._title_keys = sorted(self.title_ranks, key=lambda s: (-len(s), s))
        self._synonym_index = _union_groups(self.synonyms)
        self._chain_index = {norm(c): c for c in [*self.chain_aliases, *self.chain_terms]}
        for chain, names in self.chain_aliases.items():
            for name in names:
                self._chain_index.setdefault(norm(name), chain)

    # -- builders ---------------------------------------------------------------------------

    @classmethod
    def from_taxonomy(cls, tax: Taxonomy, synonyms: tuple[tuple[str, ...], ...] = DEFAULT_SYNONYMS
                      ) -> MatchingTables:
        """Tables from a loaded :class:`data.taxonomy.Taxonomy` (all cities merged).

        Args:
            tax: the taxonomy (``load_taxonomy()``).
            synonyms: hand-made synonym groups added to the chain alias groups.

        Returns:
            The tables.
        """
        titles = tax.common["title"].entries
        levels = tax.common["level"].entries
        chain_terms = tax.chain_terms()
        all_terms = {norm(t) for terms in chain_terms.values() for t in terms}
        chain_aliases = _chain_aliases(tax)
        groups = [list(g) for g in synonyms]
        for chain, names in chain_aliases.items():
            group = [chain, *[a for a in names if a != chain and norm(a) not in all_terms]]
            if len(group) > 1:
                groups.append(group)
        return cls(
            kind_fit={k: {c: float(v) for c, v in row.items()}
                      for k, row in (tax.extra.get("kind_fit") or {}).items()},
            title_ranks=_alias_map(titles, lambda e: int(e["rank"])),
            title_names={int(e["rank"]): str(e["name"]) for e in titles},
            level_ranks=_alias_map(levels, lambda e: len(levels) - levels.index(e)),
            level_names={len(levels) - i: str(e["name"]) for i, e in enumerate(levels)},
            chain_terms=chain_terms,
            chain_aliases=chain_aliases,
            synonyms=groups,
            city_counties={c.name: c.vocabs["county"].names for c in tax.cities.values()},
            city_index={k: c.name for c in tax.cities.values()
                        for k in [c.name, c.slug, *c.aliases]},
            city_abbrev={c.name: _abbrev(c.name, c.aliases) for c in tax.cities.values()},
            intents=_alias_map(tax.common["intent"].entries, lambda e: str(e["name"])),
            kind_labels=tax.common["need_kind"].labels(),
        )

    # -- lookups ----------------------------------------------------------------------------

    def title_rank(self, text: str | None) -> int | None:
        """Rank of a 职称 given as free text, or None when unknown.

        An exact name or alias wins; otherwise the longest alias contained in the text
        (「二级教授」 → 教授 → 4; 「副教授、博导」 → 副教授 → 3).

        Args:
            text: the 职称 as written.

        Returns:
            0..4, or None.
        """
        key = norm(text)
        if not key:
            return None
        if key in self.title_ranks:
            return self.title_ranks[key]
        for alias in self._title_keys:
            if alias and alias in key:
                return self.title_ranks[alias]
        return None

    def title_name(self, rank: int | None) -> str | None:
        """Canonical 职称 name of a rank (None when unknown)."""
        return None if rank is None else self.title_names.get(rank)

    def level_rank(self, level: str | None) -> int | None:
        """Rank of a level (A highest), or None when unknown."""
        return self.level_ranks.get(norm(level)) if level else None

    def level_name(self, level: str | None) -> str | None:
        """Canonical level name of a level or alias (「B类人才」 → B), or None."""
        rank = self.level_rank(level)
        return None if rank is None else self.level_names.get(rank, level)

    def intent(self, value: str) -> str:
        """Canonical intent of a value (the folded value itself when unknown)."""
        return self.intents.get(norm(value), value)

    def city(self, value: str | None) -> str | None:
        """Canonical city name of a name or alias, or None."""
        return self.city_index.get(norm(value)) if value else None

    def place_names(self) -> list[str]:
        """City names and aliases of at least 2 characters (place prefixes of org names)."""
        names = {*self.city_index, *(norm(c) for c in self.city_counties)}
        return sorted(n for n in names if len(n) >= 2)

    def counties_of(self, city: str | None) -> list[str]:
        """The counties of a city (empty when unknown)."""
        name = self.city(city)
        return list(self.city_counties.get(name, [])) if name else []

    def abbrev(self, city: str | None) -> str:
        """One-character short name of a city (平顶山 → 平), or the name itself."""
        name = self.city(city) or (city or "")
        return self.city_abbrev.get(name, name)

    def variants(self, term: str) -> list[str]:
        """A folded term and its folded synonyms (the term first)."""
        key = norm(term)
        return self._synonym_index.get(key, [key])

    def chain_of(self, value: str | None) -> str | None:
        """Canonical chain of a chain name or alias, or None."""
        return self._chain_index.get(norm(value)) if value else None


def _union_groups(groups: list[list[str]]) -> dict[str, list[str]]:
    """Folded term → every folded term of its (transitively merged) synonym group."""
    member: dict[str, set[str]] = {}
    for group in groups:
        merged = {norm(g) for g in group if norm(g)}
        for g in list(merged):
            merged |= member.get(g, set())
        for g in merged:
            member[g] = merged
    return {g: [g, *sorted(others - {g})] for g, others in member.items()}


def _alias_map(entries: list[dict[str, Any]], value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for e in entries:
        for key in [e["name"], *e.get("aliases", []), *([e["label"]] if "label" in e else [])]:
            out.setdefault(norm(key), value(e))
    return out


def _chain_aliases(tax: Taxonomy) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for city in tax.cities.values():
        for e in city.vocabs["chain"].entries:
            names = out.setdefault(str(e["name"]), [str(e["name"])])
            names.extend(str(a) for a in e.get("aliases", []) if str(a) not in names)
    return out


def _abbrev(name: str, aliases: list[str]) -> str:
    single = [a for a in aliases if len(a) == 1]
    return single[0] if single else name[:1]
