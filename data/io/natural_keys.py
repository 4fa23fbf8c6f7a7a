"""Stable ids for sheets without an id column, from a documented natural key.

Real bureau sheets often list 姓名, 籍贯, 工作单位, 手机 … but no 人才编号. Such a file is
accepted when it carries the columns of one of the entity's natural keys; each row's id is
then derived from the first key whose fields the row fills:

==============  ==============================================  ======
entity          natural keys, in order of preference            prefix
==============  ==============================================  ======
talents         姓名 + 手机; else 姓名 + 工作单位                 ``TK``
enterprises     企业名称                                         ``EK``
needs           企业编号 + 需求名称                               ``NK``
challenges      企业编号 + 需求名称                               ``CK``
projects        项目名称                                         ``PK``
==============  ==============================================  ======

The id is the prefix, the key's letter (``M`` mobile, ``O`` organisation, ``N`` name …)
and 12 hex digits of a SHA-256 over the folded values (NFKC, spaces removed, lower case;
mobiles reduced to their digits), e.g. ``TK-M-3f9a1c2b7d4e``. The same row always gets the
same id, so re-importing the file reports every row as unchanged.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NaturalKey:
    """One natural key of an entity.

    Attributes:
        letter: marks the key in derived ids (``M`` = 姓名 + 手机 …).
        fields: the record fields (dotted) whose values make the key.
        label: the key in Chinese, for messages.
    """

    letter: str
    fields: tuple[str, ...]
    label: str


NATURAL_KEYS: dict[str, tuple[str, tuple[NaturalKey, ...]]] = {
    "talents": ("TK", (NaturalKey("M", ("name", "contact.phone"), "姓名 + 手机"),
                       NaturalKey("O", ("name", "organisation"), "姓名 + 工作单位"))),
    "enterprises": ("EK", (NaturalKey("N", ("name",), "企业名称"),)),
    "needs": ("NK", (NaturalKey("T", ("enterprise_id", "title"), "企业编号 + 需求名称"),)),
    "challenges": ("CK", (NaturalKey("T", ("enterprise_id", "title"), "企业编号 + 需求名称"),)),
    "projects": ("PK", (NaturalKey("N", ("name",), "项目名称"),)),
}
"""entity → (id prefix, natural keys in order of preference)."""


def keys_of(entity: str) -> tuple[NaturalKey, ...]:
    """The natural keys of ``entity`` (empty for an unknown entity)."""
    return NATURAL_KEYS.get(entity, ("", ()))[1]


def describe(entity: str) -> str:
    """The natural keys of ``entity`` as Chinese text: ``姓名 + 手机，或 姓名 + 工作单位``."""
    return "，或 ".join(k.label for k in keys_of(entity))


def fold(field: str, value: Any) -> str:
    """A value as it enters a key: NFKC, no spaces, lower case; mobiles as digits only."""
    text = unicodedata.normalize("NFKC", str(value)).lower()
    text = "".join(ch for ch in text if not ch.isspace())
    if field == "contact.phone":
        digits = re.sub(r"\D", "", text)
        return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits
    return text


def _get(data: Mapping[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def derive_id(entity: str, data: Mapping[str, Any]) -> tuple[str, NaturalKey] | None:
    """The id of a row without one, from the first natural key the row fills.

    Args:
        entity: the entity name.
        data: the row's converted record fields (nested, e.g. ``{"contact": {"phone": …}}``).

    Returns:
        ``(id, key)``, or ``None`` when the row fills no natural key.
    """
    prefix, keys = NATURAL_KEYS.get(entity, ("", ()))
    for key in keys:
        values = [_get(data, f) for f in key.fields]
        folded = [fold(f, v) for f, v in zip(key.fields, values, strict=True)
                  if v is not None]
        if len(folded) == len(key.fields) and all(folded):
            digest = hashlib.sha256("\x1f".join(folded).encode("utf-8")).hexdigest()[:12]
            return f"{prefix}-{key.letter}-{digest}", key
    return None
