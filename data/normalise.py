"""Canonical values for categorical fields: the one place that applies the vocabularies.

Which field takes which vocabulary is the column table's business (:data:`data.columns.COLUMNS`,
``Column.vocab``); this module applies it. The importer's row converter
(:class:`data.io.rows.RowConverter`) calls :func:`canonical_cell` per cell, and the service's
create, patch and form paths call :func:`normalise` on a whole record body. Both therefore
accept the same aliases (``平顶山市`` → 平顶山, ``专技人才`` → 专业技术, ``技术攻关`` → tech …)
for all ten vocabularies: city, county, tie, category, level, chain, intent, need kind, title
and project status.

County and chain are city vocabularies: they are resolved in the record's own city when it
names one, else in the default city.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from data.columns import COLUMNS
from data.records import ENTITY_MODELS
from data.taxonomy import Taxonomy, UnknownValueError

LIST_SPLIT = re.compile(r"[、，,;；|\n]+")
"""Separators of the items of a list written as one text."""


class NormaliseError(ValueError):
    """A value no vocabulary accepts, with the field it was given for.

    Attributes:
        field: the (dotted) record field.
        reason: the vocabulary's message (the accepted values, in Chinese).
    """

    def __init__(self, field: str, error: UnknownValueError) -> None:
        self.field = field
        self.reason = str(error)
        super().__init__(f"字段 {field}：{error}")


def field_kind(model: type[BaseModel], dotted: str) -> str:
    """Shape of a (dotted) record field: list, bool, date, datetime, achievements or scalar."""
    if dotted == "achievements":
        return "achievements"
    annotation: Any = model
    for part in dotted.split("."):
        fields = getattr(annotation, "model_fields", {})
        if part not in fields:
            return "scalar"
        annotation = fields[part].annotation
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next((a for a in args if a is not type(None)), annotation)
    if typing.get_origin(annotation) is list:
        return "list"
    if annotation is bool:
        return "bool"
    if annotation is dt.datetime:
        return "datetime"
    return "date" if annotation is dt.date else "scalar"


def vocab_fields(entity: str | None = None) -> dict[str, str]:
    """(Dotted) record field → vocabulary, from the column table.

    Args:
        entity: an entity name; ``None`` for a body of unknown entity, which gets the fields
            whose vocabulary is the same in every entity that has the field (``status`` has a
            vocabulary for projects only, so it is left out).

    Returns:
        The mapping (``city`` included).
    """
    if entity is not None:
        return {c.field: c.vocab for c in COLUMNS[entity] if c.vocab}
    seen: dict[str, set[str | None]] = {}
    for columns in COLUMNS.values():
        for c in columns:
            seen.setdefault(c.field, set()).add(c.vocab)
    out: dict[str, str] = {}
    for name, vocabs in seen.items():
        vocab = vocabs.pop() if len(vocabs) == 1 else None
        if vocab is not None:
            out[name] = vocab
    return out


def _is_list_field(entity: str | None, dotted: str) -> bool:
    """True when the field holds a list (in ``entity``, or in every entity that has it)."""
    entities = [entity] if entity is not None else list(ENTITY_MODELS)
    kinds = {field_kind(ENTITY_MODELS[e], dotted) for e in entities
             if any(c.field == dotted for c in COLUMNS.get(e, []))}
    return kinds == {"list"}


def canonical(taxonomy: Taxonomy, vocab: str, value: str, city: str | None) -> str:
    """The canonical name of ``value`` in ``vocab``.

    Args:
        taxonomy: the vocabularies.
        vocab: a vocabulary name (``city`` is the programme cities).
        value: the value as written (an alias, a label, any case or width).
        city: the city whose county/chain vocabulary applies.

    Raises:
        UnknownValueError: no entry accepts the value (the message lists the accepted ones).
    """
    if vocab == "city":
        return taxonomy.city(value).name
    return taxonomy.resolve(vocab, value, city)


def canonical_cell(taxonomy: Taxonomy, vocab: str, value: Any, city: str | None) -> Any:
    """A cell's canonical value: a list item by item (duplicates dropped), else one value.

    Raises:
        UnknownValueError: an item or the value is not in the vocabulary.
    """
    if isinstance(value, list | tuple):
        return list(dict.fromkeys(canonical(taxonomy, vocab, str(v).strip(), city)
                                  for v in value))
    return canonical(taxonomy, vocab, str(value).strip(), city)


def _get(data: Mapping[str, Any], dotted: str) -> Any:
    """``data["a"]["b"]`` for ``dotted == "a.b"`` (None when a level is missing)."""
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data["a"]["b"] = value``, copying the nested dicts on the way."""
    *parents, last = dotted.split(".")
    for part in parents:
        data[part] = dict(data[part])
        data = data[part]
    data[last] = value


def normalise(data: Mapping[str, Any], taxonomy: Taxonomy, default_city: str,
              entity: str | None = None) -> dict[str, Any]:
    """A copy of a record body with every categorical value canonical.

    Empty values (``None``, ``""``) are left as they are; a text given for a list field is
    split on ``、，,;；|``. The record's city is canonicalised first and is the city of its
    county and chain.

    Args:
        data: the record's fields (JSON-like; nested models as dicts).
        taxonomy: the vocabularies.
        default_city: the city for county/chain when the body names none.
        entity: the entity, when known (else see :func:`vocab_fields`).

    Returns:
        The new dict (nested dicts that change are copied, never modified in place).

    Raises:
        NormaliseError: a value no vocabulary accepts (names the field and the accepted
            values).
    """
    out = dict(data)
    fields = vocab_fields(entity)
    city = default_city
    raw_city = out.get("city") if "city" in fields else None
    if isinstance(raw_city, str) and raw_city.strip():
        try:
            city = out["city"] = canonical(taxonomy, "city", raw_city.strip(), None)
        except UnknownValueError as exc:
            raise NormaliseError("city", exc) from exc
    for name, vocab in fields.items():
        value = _get(out, name)
        if name == "city" or value is None or value == "":
            continue
        if isinstance(value, str) and _is_list_field(entity, name):
            value = [v.strip() for v in LIST_SPLIT.split(value) if v.strip()]
        if not isinstance(value, str | list | tuple):
            continue
        try:
            _set(out, name, canonical_cell(taxonomy, vocab, value, city))
        except UnknownValueError as exc:
            raise NormaliseError(name, exc) from exc
    return out
