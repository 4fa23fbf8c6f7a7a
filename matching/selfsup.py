"""Self-supervised training examples from the talent library itself.

The library holds thousands of free examples: a talent's own items (papers, patents,
projects). :func:`pseudo_needs` holds one item out of a talent as a *pseudo-need* and returns
the talent with that item removed as its one right answer:

- the item held out is the talent's **most recent** one (largest ``year``; the last listed
  when no year is known): "what will this person work on next" is the question an
  enterprise need asks of the library;
- items that say nearly the same thing as the held-out one (an output of that project, a
  re-titled version: at least :data:`NEAR_DUPLICATE` of the shorter title's character
  bigrams shared) leave with it, or the pseudo-need would be found by copying;
- the held-out titles are also cut out of the talent's free-text profile fields
  (disciplines, research directions), where an exchange file may have pasted them;
- only talents left with at least one item (or a non-empty profile) are used, at most
  ``limit`` of them, drawn with a fixed seed.

No needs and no relevance judgements are read here, which is what keeps training apart
from any evaluation set (``tests/test_selfsup.py`` checks it).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from data.records import Achievement, Need, NeedKind, Talent

NEAR_DUPLICATE = 0.5
"""Share of the shorter title's bigrams two items must share to leave together."""

DEFAULT_LIMIT = 2000
"""Pseudo-needs drawn per training run (enough for a stable logistic model)."""

_CJK_OR_WORD = re.compile(r"[\u4e00-\u9fff]|[0-9a-z]+")


@dataclass(frozen=True)
class PseudoNeed:
    """One self-supervised example: a need made from a held-out item, and its answer."""

    need: Need
    talent_id: str
    held_out: tuple[str, ...]


def bigram_set(text: str) -> set[str]:
    """The character bigrams of a title (CJK characters and lower-cased words as units).

    Args:
        text: a title.

    Returns:
        Its bigrams (the single unit when there is only one).
    """
    units = _CJK_OR_WORD.findall(text.lower())
    if len(units) < 2:
        return set(units)
    return {units[i] + units[i + 1] for i in range(len(units) - 1)}


def near_duplicates(a: str, b: str, threshold: float = NEAR_DUPLICATE) -> bool:
    """Whether two titles say nearly the same thing (shared character bigrams).

    Args:
        a: one title.
        b: the other.
        threshold: the share of the shorter title's bigrams that must be shared.

    Returns:
        True when they are near duplicates.
    """
    return shares_bigrams(bigram_set(a), bigram_set(b), threshold)


def shares_bigrams(a: set[str], b: set[str], threshold: float = NEAR_DUPLICATE) -> bool:
    """:func:`near_duplicates` on titles' precomputed :func:`bigram_set`.

    Args:
        a: one title's bigrams.
        b: the other's.
        threshold: the share of the smaller set that must be shared.

    Returns:
        True when they are near duplicates (never for an empty set).
    """
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= threshold


def _held_out_index(items: Sequence[Achievement]) -> int:
    years = [it.year or 0 for it in items]
    if any(years):
        best = max(years)
        return max(i for i, y in enumerate(years) if y == best)
    return len(items) - 1


def _cut(values: Sequence[str], titles: Sequence[str]) -> list[str]:
    out = []
    for value in values:
        for title in titles:
            value = value.replace(title, "")
        value = value.strip("；;，, 。")
        if value:
            out.append(value)
    return out


def hold_out(talent: Talent, index: int | None = None
             ) -> tuple[Talent, Achievement, tuple[str, ...]] | None:
    """The talent without its most recent item (and that item's near duplicates).

    Args:
        talent: a library talent.
        index: hold out this item instead of the most recent one.

    Returns:
        ``(reduced talent, the held-out item, every removed title)``, or None when the
        talent has fewer than two items or nothing would be left of it.
    """
    items = list(talent.achievements)
    if len(items) < 2:
        return None
    h = _held_out_index(items) if index is None else index
    target = items[h]
    gone = [i for i, it in enumerate(items)
            if i == h or near_duplicates(it.title, target.title)]
    kept = [it for i, it in enumerate(items) if i not in gone]
    titles = tuple(items[i].title for i in gone)
    reduced = talent.model_copy(update={
        "achievements": kept,
        "research_directions": _cut(talent.research_directions, titles),
        "disciplines": _cut(talent.disciplines, titles),
    })
    if not kept and not reduced.research_directions and not reduced.disciplines:
        return None
    return reduced, target, titles


def recency_order(talent: Talent) -> list[int]:
    """A talent's item indexes, most recent first (by year; unknown years last, later listed
    first), the order in which :func:`hold_out` candidates are taken."""
    items = talent.achievements
    return sorted(range(len(items)), key=lambda i: (-(items[i].year or 0), -i))


def pseudo_needs(talents: Sequence[Talent], limit: int = DEFAULT_LIMIT, seed: int = 0
                 ) -> tuple[list[PseudoNeed], list[Talent]]:
    """Pseudo-needs and the library they are answered from.

    Args:
        talents: the library.
        limit: at most this many pseudo-needs (drawn with ``seed``).
        seed: the draw's seed.

    Returns:
        ``(pseudo_needs, library)`` where ``library`` is ``talents`` with every drawn
        talent replaced by its reduced copy (same order).
    """
    usable = []
    for i, t in enumerate(talents):
        cut = hold_out(t)
        if cut is not None:
            usable.append((i, cut))
    rng = random.Random(seed)
    if len(usable) > limit:
        usable = sorted(rng.sample(usable, limit), key=lambda x: x[0])
    library = list(talents)
    out = []
    for i, (reduced, item, titles) in usable:
        library[i] = reduced
        text = item.text if item.text and item.text != item.title else ""
        need = Need(id=f"pseudo-{i}", kind=NeedKind.tech, title=item.title[:200],
                    description=text[:8000], city=talents[i].city)
        out.append(PseudoNeed(need, talents[i].id, titles))
    return out, library
