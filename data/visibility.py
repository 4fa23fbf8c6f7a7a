"""What an enterprise account may see of a talent, and the text a keyword search looks at.

The rule is a domain rule, so it lives here: the store keeps one search text per view
(:func:`search_text` of the public record, and of :func:`enterprise_view` for talents), and the
service searches with SQL over the view the caller has. A masked field is not in the
enterprise's text, so no guess about it can match (issue #11).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

EMPLOYER_FIELDS = ("organisation", "parent_organisation")
"""A talent's exact employer: hidden from enterprises until a pairing is approved."""

PRIVATE_FIELDS = ("relatives", "avoid", "contact")
"""Removed from an enterprise's view of a talent (relatives' names and 回避 entries)."""

HIDDEN = "（对接批准后可见）"
"""What an enterprise sees in place of a hidden employer."""


def enterprise_view(data: Mapping[str, Any]) -> dict[str, Any]:
    """A talent's JSON dump as an enterprise sees it before any approved pairing.

    Args:
        data: the public talent (``model_dump(mode="json")``).

    Returns:
        A new dict: employer fields replaced by :data:`HIDDEN`, private fields removed.
    """
    out = dict(data)
    for name in EMPLOYER_FIELDS:
        if out.get(name):
            out[name] = HIDDEN
    for name in PRIVATE_FIELDS:
        out.pop(name, None)
    return out


def _values(data: Any) -> Iterator[str]:
    """Every scalar value in a JSON-ready structure, as text (keys left out)."""
    if isinstance(data, dict):
        for v in data.values():
            yield from _values(v)
    elif isinstance(data, list):
        for v in data:
            yield from _values(v)
    elif data is not None:
        yield str(data)


def search_text(visible: Mapping[str, Any]) -> str:
    """The text a keyword search looks at: every value of the record as a caller sees it.

    Args:
        visible: a JSON-mode dump, already masked for the caller.

    Returns:
        The values joined by newlines (a search word never spans two values).
    """
    return "\n".join(_values(dict(visible)))


def search_columns(entity: str, data: Mapping[str, Any]) -> dict[str, str | None]:
    """The store's search columns of one record's public dump.

    Args:
        entity: the entity name.
        data: the public JSON dump (no contact).

    Returns:
        ``search_text`` (what staff roles search), ``search_masked`` (what an enterprise
        searches; talents only, else None) and ``enterprise_id`` (the owner of a need,
        challenge or project; else None).
    """
    owner = data.get("enterprise_id")
    return {
        "search_text": search_text(data),
        "search_masked": search_text(enterprise_view(data)) if entity == "talents" else None,
        "enterprise_id": str(owner) if owner else None,
    }
