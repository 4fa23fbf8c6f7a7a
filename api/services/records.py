"""CRUD and keyword search of talents, enterprises, needs, challenges and projects, as the
caller may see them (an enterprise: its own needs only, masked talents)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from api.service import masking
from api.services import cities
from api.services.errors import Conflict, Invalid, NotFound
from api.services.types import JSONObject, User
from api.typed import each, one
from data.normalise import NormaliseError, normalise
from data.records import ENTITY_MODELS, Enterprise, Need, Record
from data.taxonomy import entity_labels, kind_labels

if TYPE_CHECKING:
    from api.application import Application
    from api.service.state import ServiceState

ENTITIES = ("talents", "enterprises", "needs", "challenges", "projects")
FILTERS = ("chain", "county", "category", "status", "kind", "enterprise_id")
NEED_ENTITIES = ("needs", "challenges")
LABELS = entity_labels("title")
KIND_LABELS = kind_labels()
"""Need kind → Chinese label, from the taxonomy (pages show it)."""


def canonicalise(app: Application, data: JSONObject, entity: str | None = None,
                 city: str | None = None) -> JSONObject:
    """Taxonomy-canonical values for the categorical fields of ``data``
    (:func:`data.normalise.normalise`, the importer's rules); county and chain in the
    record's city, else ``city`` (the caller's), else the settings' city.

    Raises:
        Invalid: a value no vocabulary accepts (the message names the field and the
            accepted values).
    """
    try:
        out: JSONObject = normalise(data, app.taxonomy, city or app.settings.city, entity)
    except NormaliseError as exc:
        raise Invalid(str(exc)) from exc
    return out


def public(app: Application, entity: str, record: Record, user: User,
           approved: set[str] | None = None) -> JSONObject:
    """``record`` as ``user`` may see it (an enterprise: a masked talent until a pairing
    with one of its needs is approved)."""
    data: JSONObject = record.model_dump(mode="json")
    if entity == "talents" and masking.is_enterprise(user):
        store = app.store
        approved = masking.approved_talents(store, user) if approved is None else approved
        talent_id = str(data["id"])
        unmasked = talent_id in approved
        contact = store.get_contact("talents", talent_id) if unmasked else None
        masked: JSONObject = masking.mask_talent(data, unmasked, contact)
        return masked
    return data


def not_found(entity: str, id: str) -> str:
    """The message of a missing record (also an enterprise's answer for others' needs)."""
    return f"找不到{LABELS[entity]}「{id}」：请检查编号"


def _get(app: Application, entity: str, id: str, user: User | None = None) -> Record:
    """The record, 404 when missing or (for a city-scoped ``user``) of another city."""
    record = app.store.get(entity, id)
    if record is None:
        raise NotFound(not_found(entity, id))
    if user is not None:
        cities.check(user, record, not_found(entity, id))
    return record


def search(app: Application, user: User, entity: str, *, q: str | None = None,
           filters: dict[str, str | None] | None = None, limit: int = 50,
           offset: int = 0) -> JSONObject:
    """Records of ``entity`` matching the filters and every word of ``q`` (paged).

    Words are looked for only in what the caller may see, and only in the caller's city
    (a city-scoped account; the filter is SQL). Returns
    ``{"total", "limit", "offset", "items"}``.
    """
    wanted: dict[str, str | None] = {**(filters or {}), **cities.where(user)}
    if entity in NEED_ENTITIES and masking.is_enterprise(user):
        wanted["enterprise_id"] = user.enterprise_id
    given = {k: v for k, v in wanted.items() if v is not None}
    store = app.store
    approved = masking.approved_talents(store, user)
    # filters, words and the total are all SQL over the view the caller has
    # (data.visibility): an enterprise's talent search looks at the masked text, except
    # for its approved pairings
    masked = sorted(approved) if entity == "talents" and masking.is_enterprise(user) else None
    total, page = store.search(entity, given, q.split() if q else [], limit, offset,
                               masked_except=masked)
    found = [public(app, entity, record, user, approved) for record in page]
    return {"total": total, "limit": limit, "offset": offset, "items": list(found)}


def read(app: Application, user: User, entity: str, id: str) -> JSONObject:
    """One record as the caller may see it (404 also for another enterprise's need, and
    for another city's record)."""
    record = _get(app, entity, id, user)
    if entity in NEED_ENTITIES:
        masking.check_need_owner(user, record, not_found(entity, id))
    return public(app, entity, record, user)


def create(app: Application, user: User, entity: str, body: BaseModel) -> JSONObject:
    """Store a new record (an enterprise's need gets a service-assigned id).

    Raises:
        Invalid: a vocabulary value no list accepts (422).
        Conflict: the id exists (409).
    """
    data: JSONObject = body.model_dump(mode="json", exclude_unset=True)
    if entity in NEED_ENTITIES and masking.is_enterprise(user):
        data["enterprise_id"] = user.enterprise_id
        data["id"] = masking.new_need_id()  # the service assigns it: no id probing
        owner_city = getattr(app.store.get("enterprises", str(user.enterprise_id)), "city", None)
        if not data.get("city") and owner_city:
            data["city"] = owner_city  # an enterprise's need: of its enterprise's city
    data = cities.stamp(app, user, data)
    record: Any = ENTITY_MODELS[entity].model_validate(
        canonicalise(app, data, entity, cities.home(app, user)))
    if app.store.get(entity, record.id) is not None:
        raise Conflict(f"{LABELS[entity]}编号「{record.id}」已存在：请换一个编号，或用 PATCH 修改")
    app.store.upsert(entity, [record])
    return public(app, entity, _get(app, entity, record.id), user)


def update(state: ServiceState, user: User, entity: str, id: str,
           changes: BaseModel) -> JSONObject:
    """Change the fields given in ``changes`` (an Update schema; unset fields stay); cached
    matches are dropped."""
    app = state.application
    body: JSONObject = changes.model_dump(mode="json", exclude_unset=True)
    store = app.store
    current = _get(app, entity, id, user)
    body = cities.stamp(app, user, body) if "city" in body else body
    if entity in NEED_ENTITIES:
        masking.check_need_owner(user, current, not_found(entity, id))
        if masking.is_enterprise(user):
            body = {**body, "enterprise_id": user.enterprise_id}
    city = str(body.get("city") or getattr(current, "city", "") or cities.home(app, user))
    merged: JSONObject = {**current.model_dump(mode="json"),
                          **canonicalise(app, body, entity, city), "id": id}
    if entity in ("talents", "enterprises"):
        contact = store.get_contact(entity, id)
        if contact is not None and "contact" not in body:
            merged["contact"] = contact.model_dump(mode="json")
    store.upsert(entity, [ENTITY_MODELS[entity].model_validate(merged)])
    state.clear_cache()
    return public(app, entity, _get(app, entity, id), user)


def delete(state: ServiceState, user: User, entity: str, id: str) -> None:
    """Delete a record (an enterprise: its own needs only); cached matches are dropped."""
    app = state.application
    record = _get(app, entity, id, user)
    if entity in NEED_ENTITIES:
        masking.check_need_owner(user, record, not_found(entity, id))
    app.store.delete(entity, [id])
    state.clear_cache()


@dataclass
class EnterprisePage:
    """What the enterprise page shows: the caller's needs, its enterprise, the chains."""

    needs: list[Need]
    enterprise: Enterprise | None
    chains: list[str]


def enterprise_page(app: Application, user: User, limit: int = 200) -> EnterprisePage:
    """The caller's needs and challenges (an admin: everyone's of its cities), at most
    ``limit``, its enterprise, and its city's industry chains (for the form)."""
    store = app.store
    where = cities.where(user)
    needs = [n for e in NEED_ENTITIES for n in each(Need, store.iter_where(e, where))
             if user.role == "admin" or n.enterprise_id == user.enterprise_id][:limit]
    enterprise = (one(Enterprise, store.get("enterprises", user.enterprise_id))
                  if user.enterprise_id else None)
    home = getattr(enterprise, "city", None) or cities.home(app, user)
    chains = [str(e["name"]) for e in app.taxonomy.vocabulary("chain", home).entries]
    return EnterprisePage(needs, enterprise, chains)
