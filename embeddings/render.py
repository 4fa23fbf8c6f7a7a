"""Records → texts for the encoders and the tokenizer.

A talent gives one **profile** text and one text per **item** (achievement):

- profile: disciplines (、-joined), research directions, title and position, organisation
  (and parent organisation), industry chains, in that order, parts joined by 「；」. Empty
  parts are skipped; no field labels (they would be shared by every document and only blur
  the dense vectors). Private data (contact, relatives, avoid lists), the name, hometown and
  category are never included: they are not expertise.
- item: the achievement's ``title``, then 「。」 and its ``text`` when there is one.

A need gives one text: title, description, required expertise (、-joined) and chain. For a
challenge (揭榜挂帅) the same fields only: eligibility, funding, list number and avoid lists
are left out (they are rules, not topic, and some are not for talents to see).

The evaluation exchange format (``talents.jsonl`` / ``needs.jsonl``):

- talent row ``{"id", "name", "text", "items": [{"title", "text", "year"}]}``: profile =
  ``text``; items = ``title`` + 「。」 + ``text`` as above (year ignored).
- need row ``{"id", "title", "text"}``: title + 「。」 + text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from data.records import Achievement, Need, Talent

PART_SEP = "；"
LIST_SEP = "、"


def _join(parts: Iterable[str | None], sep: str) -> str:
    return sep.join(p.strip() for p in parts if p and p.strip())


def item_text(title: str | None, text: str | None) -> str:
    """One item's text: title, then 「。」 and the body when there is one.

    Args:
        title: the item's title.
        text: its body (may be empty).

    Returns:
        The item text.
    """
    title, text = (title or "").strip(), (text or "").strip()
    if title and text:
        return title + ("" if title[-1] in "。.!！?？" else "。") + text
    return title or text


def profile_text(t: Talent) -> str:
    """A talent's profile text (see the module docstring for the field order).

    Args:
        t: the talent.

    Returns:
        The profile text (may be empty).
    """
    return _join(
        [
            _join(t.disciplines, LIST_SEP),
            _join(t.research_directions, LIST_SEP),
            _join([t.title, t.position], " "),
            _join([t.organisation, t.parent_organisation], " "),
            _join(t.chains, LIST_SEP),
        ],
        PART_SEP,
    )


def achievement_text(a: Achievement) -> str:
    """One achievement's text.

    Args:
        a: the achievement.

    Returns:
        Title and text.
    """
    return item_text(a.title, a.text)


def talent_texts(t: Talent) -> tuple[str, list[str]]:
    """A talent's profile text and one text per achievement.

    Args:
        t: the talent.

    Returns:
        ``(profile, items)``.
    """
    return profile_text(t), [achievement_text(a) for a in t.achievements]


def need_text(n: Need) -> str:
    """A need's (or challenge's) text: title, description, expertise, chain.

    Args:
        n: the need or challenge.

    Returns:
        The need text.
    """
    return _join(
        [item_text(n.title, n.description), _join(n.required_expertise, LIST_SEP), n.chain],
        PART_SEP,
    )


def exchange_talent_texts(row: Mapping[str, Any]) -> tuple[str, list[str]]:
    """Profile and item texts of an evaluation ``talents.jsonl`` row.

    Args:
        row: ``{"id", "name", "text", "items": [{"title", "text", "year"}]}``.

    Returns:
        ``(profile, items)``; items with neither title nor text are skipped.
    """
    items = [item_text(i.get("title"), i.get("text")) for i in row.get("items") or []]
    return str(row.get("text") or "").strip(), [i for i in items if i]


def exchange_need_text(row: Mapping[str, Any]) -> str:
    """Text of an evaluation ``needs.jsonl`` row.

    Args:
        row: ``{"id", "title", "text"}``.

    Returns:
        Title and text.
    """
    return item_text(row.get("title"), row.get("text"))
