"""CRUD and search for talents, enterprises, needs, challenges and projects.

One router per entity, made by :func:`entity_router`: ``GET /{entity}`` (search with
filters and paging), ``GET /{entity}/{id}``, ``POST /{entity}`` (Create schema),
``PATCH /{entity}/{id}`` (Update: the fields to change), ``DELETE /{entity}/{id}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Response

from api.service import masking
from api.service.authz import require
from api.service.deps import get_state
from data.normalise import normalise
from data.records import ENTITY_MODELS
from data.store.users import User

FILTERS = ("chain", "county", "category", "status", "kind", "enterprise_id")
NEED_ENTITIES = ("needs", "challenges")
LABELS = {"talents": "人才", "enterprises": "企业", "needs": "需求", "challenges": "揭榜挂帅榜单",
          "projects": "归根项目"}


def canonicalise(state: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Taxonomy-canonical values for the categorical fields of ``data``
    (:func:`data.normalise.normalise`, the importer's rules).

    Raises:
        ValueError: a value no vocabulary accepts (the message names the field and the
            accepted values).
    """
    return normalise(data, state.application.taxonomy, state.application.settings.city)


def _public(state: Any, entity: str, record: Any, user: User,
            approved: set[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = record.model_dump(mode="json")
    if entity == "talents" and masking.is_enterprise(user):
        store = state.application.store
        approved = masking.approved_talents(store, user) if approved is None else approved
        unmasked = record.id in approved
        contact = store.get_contact("talents", record.id) if unmasked else None
        return masking.mask_talent(data, unmasked, contact)
    return data


def _not_found(entity: str, id: str) -> str:
    return f"找不到{LABELS[entity]}「{id}」：请检查编号"


def _get(state: Any, entity: str, id: str) -> Any:
    record = state.application.store.get(entity, id)
    if record is None:
        raise HTTPException(404, _not_found(entity, id))
    return record


def entity_router(entity: str) -> APIRouter:
    """The CRUD + search router of ``entity`` (prefix ``/{entity}``).

    Args:
        entity: talents, enterprises, needs, challenges or projects.

    Returns:
        The router.
    """
    router = APIRouter(prefix=f"/{entity}", tags=[LABELS[entity]])
    create_model = ENTITY_MODELS[entity]
    read, write = require(f"{entity}.read"), require(f"{entity}.write")

    @router.get("", summary=f"搜索{LABELS[entity]}")
    def search(q: str | None = Query(None, description="全文关键词（空格分隔，全部包含）；"
                                     "只在调用者可见的字段中查找"),
               chain: str | None = None, county: str | None = None,
               category: str | None = None, status: str | None = None,
               kind: str | None = None, enterprise_id: str | None = None,
               limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
               user: User = Depends(read), state: Any = Depends(get_state)) -> dict[str, Any]:
        filters = {"chain": chain, "county": county, "category": category, "status": status,
                   "kind": kind, "enterprise_id": enterprise_id}
        if entity in NEED_ENTITIES and masking.is_enterprise(user):
            filters["enterprise_id"] = user.enterprise_id
        filters = {k: v for k, v in filters.items() if v is not None}
        store = state.application.store
        approved = masking.approved_talents(store, user)
        # filters, search and the total are all SQL; an enterprise's talent search looks
        # only at its masked view (data.visibility), except for its approved pairings
        masked = (sorted(approved) if entity == "talents" and masking.is_enterprise(user)
                  else None)
        total, page = store.search(entity, filters, q.split() if q else [], limit, offset,
                                   masked_except=masked)
        found = [_public(state, entity, record, user, approved) for record in page]
        return {"total": total, "limit": limit, "offset": offset, "items": found}

    @router.get("/{id}", summary=f"查看{LABELS[entity]}")
    def read_one(id: str, user: User = Depends(read),
                 state: Any = Depends(get_state)) -> dict[str, Any]:
        record = _get(state, entity, id)
        if entity in NEED_ENTITIES:
            masking.check_need_owner(user, record, _not_found(entity, id))
        return _public(state, entity, record, user)

    def create(body: Any = Body(...), user: User = Depends(write),
               state: Any = Depends(get_state)) -> dict[str, Any]:
        data = body.model_dump(mode="json", exclude_unset=True)
        if entity in NEED_ENTITIES and masking.is_enterprise(user):
            data["enterprise_id"] = user.enterprise_id
            data["id"] = masking.new_need_id()  # the service assigns it: no id probing
        record: Any = create_model.model_validate(canonicalise(state, data))
        if state.application.store.get(entity, record.id) is not None:
            raise HTTPException(409, f"{LABELS[entity]}编号「{record.id}」已存在：请换一个编号，"
                                "或用 PATCH 修改")
        state.application.store.upsert(entity, [record])
        return _public(state, entity, _get(state, entity, record.id), user)

    create.__annotations__["body"] = create_model  # the Create schema in OpenAPI
    note = ("企业账号新建的需求由服务分配编号（请求中的 id 不使用，以响应中的 id 为准）。"
            if entity in NEED_ENTITIES else None)
    router.post("", status_code=201, summary=f"新建{LABELS[entity]}", description=note)(create)

    @router.patch("/{id}", summary=f"修改{LABELS[entity]}")
    def update(id: str, body: dict[str, Any] = Body(..., description="要修改的字段"),
               user: User = Depends(write), state: Any = Depends(get_state)) -> dict[str, Any]:
        store = state.application.store
        current = _get(state, entity, id)
        if entity in NEED_ENTITIES:
            masking.check_need_owner(user, current, _not_found(entity, id))
            if masking.is_enterprise(user):
                body = {**body, "enterprise_id": user.enterprise_id}
        merged = {**current.model_dump(mode="json"), **canonicalise(state, body), "id": id}
        if entity in ("talents", "enterprises"):
            contact = store.get_contact(entity, id)
            if contact is not None and "contact" not in body:
                merged["contact"] = contact.model_dump(mode="json")
        record = create_model.model_validate(merged)
        store.upsert(entity, [record])
        state.clear_cache()
        return _public(state, entity, _get(state, entity, id), user)

    @router.delete("/{id}", status_code=204, summary=f"删除{LABELS[entity]}")
    def delete(id: str, user: User = Depends(write),
               state: Any = Depends(get_state)) -> Response:
        record = _get(state, entity, id)
        if entity in NEED_ENTITIES:
            masking.check_need_owner(user, record, _not_found(entity, id))
        state.application.store.delete(entity, [id])
        state.clear_cache()
        return Response(status_code=204)

    return router


def routers() -> list[APIRouter]:
    """One router per stored entity."""
    return [entity_router(e) for e in ("talents", "enterprises", "needs", "challenges",
                                       "projects")]
