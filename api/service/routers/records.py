"""CRUD and search for talents, enterprises, needs, challenges and projects.

One router per entity, made by :func:`entity_router`: ``GET /{entity}`` (search with
filters and paging), ``GET /{entity}/{id}``, ``POST /{entity}`` (Create schema),
``PATCH /{entity}/{id}`` (Update schema: the fields to change), ``DELETE /{entity}/{id}``.
The rules (masking, an enterprise's own needs) are in :mod:`api.services.records`.
"""


from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response

from api.service.authz import require
from api.service.deps import StateDep, User
from api.service.record_schemas import CREATE, PAGES, PUBLIC, UPDATE
from api.service.schemas import MAX_OFFSET
from api.services import records
from api.services.types import JSONObject


def entity_router(entity: str) -> APIRouter:
    """The CRUD + search router of ``entity`` (prefix ``/{entity}``).

    Args:
        entity: talents, enterprises, needs, challenges or projects.

    Returns:
        The router.
    """
    label = records.LABELS[entity]
    router = APIRouter(prefix=f"/{entity}", tags=[label])
    Reader = Annotated[User, Depends(require(f"{entity}.read"))]
    Writer = Annotated[User, Depends(require(f"{entity}.write"))]
    public, create_model, update_model = PUBLIC[entity], CREATE[entity], UPDATE[entity]

    @router.get("", summary=f"搜索{label}", response_model=PAGES[entity],
                response_model_exclude_unset=True)
    def search(user: Reader, state: StateDep,
               q: str | None = Query(None, description="全文关键词（空格分隔，全部包含）；"
                                     "只在调用者可见的字段中查找"),
               chain: str | None = None, county: str | None = None,
               category: str | None = None, status: str | None = None,
               kind: str | None = None, enterprise_id: str | None = None,
               limit: int = Query(50, ge=1, le=500),
               offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> JSONObject:
        filters = {"chain": chain, "county": county, "category": category, "status": status,
                   "kind": kind, "enterprise_id": enterprise_id}
        return records.search(state.application, user, entity, q=q, filters=filters,
                              limit=limit, offset=offset)

    @router.get("/{id}", summary=f"查看{label}", response_model=public,
                response_model_exclude_unset=True)
    def read_one(id: str, user: Reader, state: StateDep) -> JSONObject:
        return records.read(state.application, user, entity, id)

    def create(user: Writer, state: StateDep, body: Any = Body(...)) -> JSONObject:
        return records.create(state.application, user, entity, body)

    create.__annotations__["body"] = create_model  # the Create schema in OpenAPI
    note = ("企业账号新建的需求由服务分配编号（请求中的 id 不使用，以响应中的 id 为准）。"
            if entity in records.NEED_ENTITIES else None)
    router.post("", status_code=201, summary=f"新建{label}", description=note,
                response_model=public, response_model_exclude_unset=True)(create)

    def update(id: str, user: Writer, state: StateDep,
               body: Any = Body(..., description="要修改的字段")) -> JSONObject:
        return records.update(state, user, entity, id, body)

    update.__annotations__["body"] = update_model  # the Update schema in OpenAPI
    router.patch("/{id}", summary=f"修改{label}", response_model=public,
                 response_model_exclude_unset=True)(update)

    @router.delete("/{id}", status_code=204, summary=f"删除{label}", response_model=None,
                   response_class=Response, responses={204: {"description": "已删除"}})
    def delete(id: str, user: Writer, state: StateDep) -> Response:
        records.delete(state, user, entity, id)
        return Response(status_code=204)

    return router


def routers() -> list[APIRouter]:
    """One router per stored entity."""
    return [entity_router(e) for e in records.ENTITIES]
