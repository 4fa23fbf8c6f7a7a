"""A need's side of pair features, computed once for all its candidates: required terms
(with their compiled patterns) and place data (:func:`prepare_need`).

See :mod:`matching.features` for how the terms make the ``coverage`` feature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from data.records import Enterprise, Need
from matching.tables import MatchingTables, norm, term_pattern


@dataclass
class RequiredTerm:
    """A need's term: its display form, the pattern of its variants, and its inner terms.

    An expertise item that contains chain terms (「纺丝工艺」 ⊃ 「纺丝」) also counts as found
    when all of its inner terms are found (shown as 「纺丝工艺（纺丝）」).
    """

    text: str
    pattern: re.Pattern[str]
    inner: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)


@dataclass
class NeedContext:
    """Everything about one need that is computed once for all its candidates."""

    need: Need
    enterprise: Enterprise | None
    tables: MatchingTables
    terms: list[RequiredTerm]
    chain: str | None
    city: str | None
    counties: set[str]
    city_counties: set[str]


def prepare_need(need: Need, tables: MatchingTables,
                 enterprise: Enterprise | None = None) -> NeedContext:
    """Compile a need's required terms and place data once.

    Args:
        need: the need (or challenge).
        tables: the matching tables.
        enterprise: the need's enterprise, when known.

    Returns:
        The context for :func:`matching.features.pair_features`.
    """
    chain = tables.chain_of(need.chain) or need.chain
    counties = {norm(c) for c in (need.county, enterprise.county if enterprise else None) if c}
    terms = [RequiredTerm(t, _compile(t, tables), [(i, _compile(i, tables)) for i in inner])
             for t, inner in required_terms(need, tables, chain)]
    return NeedContext(need, enterprise, tables, terms, chain, tables.city(need.city) or need.city,
                       counties, {norm(c) for c in tables.counties_of(need.city)})


def _compile(term: str, tables: MatchingTables) -> re.Pattern[str]:
    """The pattern of a term and its synonyms (folded text, alnum boundaries)."""
    return re.compile(term_pattern(tables.variants(term)))


def required_terms(need: Need, tables: MatchingTables, chain: str | None
                   ) -> list[tuple[str, list[str]]]:
    """The need's required terms, each with the chain terms inside it.

    Args:
        need: the need.
        tables: the matching tables.
        chain: the need's canonical chain (None: every chain's terms are looked for).

    Returns:
        ``(term, inner terms)`` pairs in order without duplicates: the expertise items, then
        chain terms of the need's text that are not inside an item.
    """
    if chain and chain in tables.chain_terms:
        vocab = tables.chain_terms[chain]
    else:
        vocab = list(dict.fromkeys(t for ts in tables.chain_terms.values() for t in ts))
    display = {norm(t): t for t in vocab if norm(t)}
    finder = re.compile(term_pattern(list(display))) if display else None

    def found(text: str) -> list[str]:
        return [display[m.group(0)] for m in finder.finditer(norm(text))] if finder else []

    out: dict[str, tuple[str, list[str]]] = {}
    for item in need.required_expertise:
        inner = [t for t in dict.fromkeys(found(item)) if norm(t) != norm(item)]
        out.setdefault(norm(item), (item, inner))
    covered = {norm(i) for _, inner in out.values() for i in inner}
    for term in found("；".join([need.title, need.description])):
        if norm(term) not in covered:
            out.setdefault(norm(term), (term, []))
    return [v for k, v in out.items() if k]
