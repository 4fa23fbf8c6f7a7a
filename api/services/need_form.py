"""The enterprise's need form: post, edit and close a need, with Chinese errors per field.

The form carries the import columns of a need (:data:`data.columns.NEED_COLUMNS`): name,
kind, description, expertise, chain, county (the enterprise's by default), budget, deadline,
required title or level, and the contact person. Every text is stripped; a text made only of
spaces is refused (a required one and an optional one alike). Errors come back per field, in
Chinese, worded here — never pydantic's English text — so the page can show each one next to
its field.

A newly posted need enters its work group's review queue at once: its best candidates are
stored as suggestions of a small run (:meth:`api.workflows.Workflows.suggest_need`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import ValidationError

from api.service import masking
from api.services import cities
from api.services.errors import NotFound
from api.services.records import not_found
from api.services.types import JSONObject, User
from api.typed import one
from data.columns import NEED_COLUMNS
from data.normalise import NormaliseError, normalise
from data.records import Enterprise, Need, NeedKind, NeedStatus

if TYPE_CHECKING:
    from api.application import Application
    from api.service.state import ServiceState

FIELDS = ("title", "kind", "description", "required_expertise", "chain", "county", "budget",
          "deadline", "min_title", "min_level", "contact_person")
"""The form's fields, in page order (record field names)."""
LABELS = {c.field: c.zh for c in NEED_COLUMNS}
"""Record field → its Chinese column header (the form's labels)."""
MAX_LENGTH = {"title": 200, "description": 8000, "contact_person": 64,
              "required_expertise": 2000}
VOCAB_FIELDS = ("kind", "chain", "county", "min_title", "min_level")
"""Fields whose value a taxonomy vocabulary canonicalises (the column table names which)."""
SUGGESTIONS_PER_NEW_NEED = 3
"""Candidates of a newly posted need that go to its work group's queue."""


@dataclass
class FormResult:
    """A checked form: the values to show again, the errors per field, the clean body."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    body: JSONObject = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the form has no error."""
        return not self.errors


@dataclass
class FormPage:
    """What the need form shows: choices of each drop-down and the default values."""

    kinds: list[tuple[str, str]]
    chains: list[str]
    counties: list[str]
    titles: list[str]
    levels: list[str]
    defaults: dict[str, str]
    enterprise: Enterprise | None


def _names(app: Application, vocab: str, city: str | None = None) -> list[str]:
    return [str(e["name"]) for e in app.taxonomy.vocabulary(vocab, city).entries]


def city_of(app: Application, user: User) -> str:
    """The city whose counties and chains the caller's need form offers and accepts: its
    enterprise's city (a Nanyang enterprise: Nanyang's), else the caller's city, else the
    settings' city (issue #14 item 3)."""
    enterprise = (one(Enterprise, app.store.get("enterprises", user.enterprise_id))
                  if user.enterprise_id else None)
    return (enterprise.city if enterprise is not None and enterprise.city
            else cities.home(app, user))


def form_page(app: Application, user: User, kind_labels: Mapping[str, str],
              need: Need | None = None) -> FormPage:
    """The choices of the form and its values (``need``'s when editing; else the county of
    the caller's enterprise), in the caller's city (:func:`city_of`)."""
    city = need.city if need is not None else city_of(app, user)
    enterprise = (one(Enterprise, app.store.get("enterprises", user.enterprise_id))
                  if user.enterprise_id else None)
    if need is not None:
        defaults = values_of(need)
    else:
        defaults = {f: "" for f in FIELDS}
        defaults["kind"] = NeedKind.tech.value
        defaults["county"] = (enterprise.county or "") if enterprise else ""
    return FormPage([(k.value, kind_labels.get(k.value, k.value)) for k in NeedKind],
                    _names(app, "chain", city), _names(app, "county", city),
                    _names(app, "title"), _names(app, "level"), defaults, enterprise)


def values_of(need: Need) -> dict[str, str]:
    """A stored need as the form's text values."""
    data = need.model_dump(mode="json")
    out = {f: "" if data.get(f) is None else str(data[f]) for f in FIELDS}
    out["required_expertise"] = "、".join(need.required_expertise)
    out["kind"] = NeedKind(need.kind).value
    if need.budget is not None:
        out["budget"] = f"{need.budget:g}"
    return out


def check(app: Application, form: Mapping[str, str], *, new: bool = True,
          today: dt.date | None = None, city: str | None = None) -> FormResult:
    """Check the posted form; the errors name the field in Chinese.

    Args:
        app: the application (vocabularies, city).
        form: field → text as posted (missing fields: empty).
        new: a new need (its deadline may not lie in the past).
        today: the date deadlines are compared with (default: today).
        city: the city whose counties and chains apply (:func:`city_of`; default: the
            settings' city).

    Returns:
        The values to show again, the errors per field, and the clean body when no error.
    """
    raw = {f: str(form.get(f) or "") for f in FIELDS}
    values = {f: v.strip() for f, v in raw.items()}
    result = FormResult(values)
    errors = result.errors
    for name, text in raw.items():
        if text and not text.strip():
            errors[name] = f"{LABELS[name]}不能只填空格"
        elif name in MAX_LENGTH and len(text.strip()) > MAX_LENGTH[name]:
            errors[name] = f"{LABELS[name]}最多 {MAX_LENGTH[name]} 个字"
    if "title" not in errors and not values["title"]:
        errors["title"] = f"请填写{LABELS['title']}"
    body: JSONObject = {"title": values["title"], "description": values["description"],
                        "required_expertise": values["required_expertise"],
                        "contact_person": values["contact_person"] or None}
    city = city or app.settings.city
    for name in VOCAB_FIELDS:
        if name in errors or not values[name]:
            body[name] = None
            continue
        try:
            body[name] = normalise({name: values[name]}, app.taxonomy, city, "needs")[name]
        except NormaliseError as exc:
            errors[name] = f"{LABELS[name]}「{values[name]}」不在可选范围内：{exc.reason}"
    if not body.get("kind") and "kind" not in errors:
        errors["kind"] = f"请选择{LABELS['kind']}"
    body["budget"] = _budget(values["budget"], errors)
    body["deadline"] = _deadline(values["deadline"], errors, new, today or dt.date.today())
    if not errors:
        probe = {**body, "id": "N-check", "city": city}
        try:
            Need.model_validate(probe)
        except ValidationError as exc:
            for err in exc.errors():
                name = str(err["loc"][0]) if err["loc"] else "title"
                errors.setdefault(name, f"{LABELS.get(name, name)}填写有误，请检查")
    result.body = body if not errors else {}
    return result


def _budget(text: str, errors: dict[str, str]) -> float | None:
    if not text or "budget" in errors:
        return None
    try:
        value = float(text.replace(",", "").replace("，", ""))
    except ValueError:
        errors["budget"] = f"{LABELS['budget']}须为数字（单位：万元），例如 50"
        return None
    if not value >= 0 or value > 1e9:
        errors["budget"] = f"{LABELS['budget']}须为不小于 0 的数字（单位：万元）"
        return None
    return value


def _deadline(text: str, errors: dict[str, str], new: bool, today: dt.date) -> str | None:
    if not text or "deadline" in errors:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        errors["deadline"] = f"{LABELS['deadline']}须为日期，格式如 2026-12-31"
        return None
    if new and day < today:
        errors["deadline"] = f"{LABELS['deadline']}不能早于今天（{today.isoformat()}）"
        return None
    return day.isoformat()


def _own(app: Application, user: User, need_id: str) -> Need:
    """The caller's need (404 for a missing need or another enterprise's)."""
    for entity in ("needs", "challenges"):
        record = app.store.get(entity, need_id)
        need = one(Need, record)
        if need is not None:
            masking.check_need_owner(user, need, not_found(entity, need_id))
            cities.check(user, need, not_found(entity, need_id))
            return need
    raise NotFound(not_found("needs", need_id))


def own_need(app: Application, user: User, need_id: str) -> Need:
    """The caller's need for the edit form (404 when it is not the caller's)."""
    return _own(app, user, need_id)


def post(state: ServiceState, user: User, checked: FormResult) -> str:
    """Store a checked new need for the caller's enterprise and put its best candidates in
    the work group's queue; returns its id."""
    assert checked.ok, "post() takes a form without errors"
    app = state.application
    data = {**checked.body, "id": masking.new_need_id(), "enterprise_id": user.enterprise_id,
            "city": city_of(app, user)}
    need = Need.model_validate(data)
    app.store.upsert("needs", [need])
    state.workflows.suggest_need(need.id, top=SUGGESTIONS_PER_NEW_NEED,
                                 started_by=user.username)
    return need.id


def edit(state: ServiceState, user: User, need_id: str, checked: FormResult) -> None:
    """Replace the form's fields of the caller's need (other fields stay)."""
    assert checked.ok, "edit() takes a form without errors"
    app = state.application
    current = _own(app, user, need_id)
    entity = "challenges" if app.store.get("challenges", need_id) is not None else "needs"
    merged = {**current.model_dump(mode="json"), **checked.body}
    app.store.upsert(entity, [type(current).model_validate(merged)])
    state.clear_cache()


def close(state: ServiceState, user: User, need_id: str) -> None:
    """Close the caller's need (it leaves matching, pairing runs and events)."""
    app = state.application
    current = _own(app, user, need_id)
    entity = "challenges" if app.store.get("challenges", need_id) is not None else "needs"
    app.store.upsert(entity, [current.model_copy(update={"status": NeedStatus.closed})])
    state.clear_cache()
