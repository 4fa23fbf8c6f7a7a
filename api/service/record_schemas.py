"""Create / Update / Public schemas of the stored entities (talents, enterprises, needs,
challenges, projects).

* **Create** — the import models of :data:`data.records.ENTITY_MODELS` (a talent's and an
  enterprise's carry their private contact).
* **Update** — every field of the Create model, optional: a PATCH body names the fields to
  change (a list field also takes a delimited string, as the importer does). The merged
  record is validated again with the Create model.
* **Public** — what a caller may be shown: the public model's fields, each optional (an
  enterprise's masked view of a talent leaves some out), plus the contact when the caller
  may see it.
"""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from data.records import ENTITY_MODELS, PUBLIC_MODELS, Contact

NAMES = {"talents": "Talent", "enterprises": "Enterprise", "needs": "Need",
         "challenges": "Challenge", "projects": "Project"}


class Page(BaseModel):
    """A page of a search: the total matching, the paging, the records."""

    total: int
    limit: int
    offset: int


def _optional(annotation: Any, *, lenient_lists: bool) -> Any:
    """``annotation | None``; a ``list[...]`` also takes ``str`` when ``lenient_lists``."""
    if lenient_lists and typing.get_origin(annotation) is list:
        return annotation | str | None
    return annotation | None


def _fields(model: type[BaseModel], *, lenient_lists: bool,
            as_sent: bool = False) -> dict[str, Any]:
    """Every field of ``model``, optional. ``as_sent``: a timestamp is the text the store
    keeps (ISO 8601, with or without a zone), not a JSON Schema ``date-time``."""
    out = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if as_sent and dt.datetime in (annotation, *typing.get_args(annotation)):
            annotation = str
        out[name] = (_optional(annotation, lenient_lists=lenient_lists),
                     Field(None, description=info.description))
    return out


def update_model(entity: str) -> type[BaseModel]:
    """The PATCH body of ``entity``: the Create model's fields, each optional."""
    create = ENTITY_MODELS[entity]
    fields = _fields(create, lenient_lists=True)  # an ``id`` is ignored: the path names it
    model: type[BaseModel] = create_model(
        f"{NAMES[entity]}Update", __config__=ConfigDict(extra="forbid", str_strip_whitespace=True),
        __doc__=f"要修改的字段（{entity}）：只列出要改的字段，其余不变。", **fields)
    return model


def public_model(entity: str) -> type[BaseModel]:
    """What a caller is shown of an ``entity`` record."""
    fields = _fields(PUBLIC_MODELS[entity], lenient_lists=False, as_sent=True)
    if entity in ("talents", "enterprises"):
        fields["contact"] = (Contact | None, Field(None, description="联系方式（有权查看时）"))
    model: type[BaseModel] = create_model(
        f"{NAMES[entity]}Public", __config__=ConfigDict(extra="allow"),
        __doc__=f"对调用者可见的记录（{entity}）。", **fields)
    return model


def page_model(entity: str, public: type[BaseModel]) -> type[BaseModel]:
    """A search page of ``entity``."""
    model: type[BaseModel] = create_model(f"{NAMES[entity]}Page", __base__=Page,
                                          items=(list[public], ...))  # type: ignore[valid-type]
    return model


CREATE = dict(ENTITY_MODELS)
"""entity → Create schema."""
UPDATE = {e: update_model(e) for e in ENTITY_MODELS}
"""entity → Update schema (PATCH)."""
PUBLIC = {e: public_model(e) for e in ENTITY_MODELS}
"""entity → Public schema (responses)."""
PAGES = {e: page_model(e, PUBLIC[e]) for e in ENTITY_MODELS}
"""entity → search page schema."""
