"""The API contract: what ``/openapi.json`` promises is what the service answers.

* Every error body is :class:`api.service.schemas.ErrorOut` (FastAPI's default 422 shape is
  replaced by it), and each operation documents the error statuses it can answer:
  401 and 403 (authentication, authorisation), 422 (validation), 503 (index not built),
  404 where the path names a resource, 400 and 413 where there is a body (unreadable, too
  large), 409 for writes (stale version, duplicate, a job of the kind already running).
* The bearer token is declared as the security scheme of the API operations.
* ``OPTIONS`` answers 204 with an ``Allow`` header listing every method the path supports,
  and a method the path does not support answers 405 with the same header (Starlette
  would list only the methods of the first route matching the path).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
DESCRIPTIONS = {400: "请求体无法解析，或文件被拒绝", 401: "未登录或令牌无效", 403: "权限不足",
                404: "找不到该资源", 409: "冲突：版本已变、编号已存在，或同类后台任务在运行",
                413: "请求体过大", 422: "参数或数据无效（逐字段说明）",
                503: "暂不可用：索引尚未建立"}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def error_response(status: int) -> dict[str, Any]:
    """The OpenAPI response object of an error status."""
    return {"description": DESCRIPTIONS[status],
            "content": {"application/json": {"schema": ERROR_REF}}}


def document_errors(schema: dict[str, Any], prefix: str = "/api/") -> dict[str, Any]:
    """Add the error responses and the bearer security to every operation under ``prefix``.

    Args:
        schema: the generated OpenAPI document (changed in place).
        prefix: the paths the API operations live under.

    Returns:
        ``schema``.
    """
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http", "scheme": "bearer", "description": "talentmatch user add 打印的 API 令牌"}
    for name in ("HTTPValidationError", "ValidationError"):
        components.get("schemas", {}).pop(name, None)
    for path, item in schema.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            statuses = {401, 403, 422, 503}
            if "{" in path:
                statuses.add(404)
            if "requestBody" in operation:
                statuses |= {400, 413}
            if method in WRITE_METHODS:
                statuses.add(409)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                responses.setdefault(str(status), error_response(status))
            responses["422"] = error_response(422)  # never FastAPI's HTTPValidationError
            operation.setdefault("security", [{"bearer": []}])
    return schema


def install(app: FastAPI) -> None:
    """Use the documented error shape in ``app``'s OpenAPI document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            app.openapi_schema = document_errors(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _path_methods(app: Any) -> list[tuple[re.Pattern[str], set[str]]]:
    """(path pattern, methods) of every documented path, compiled once per app."""
    found: list[tuple[re.Pattern[str], set[str]]] | None = getattr(app.state, "path_methods",
                                                                    None)
    if found is None:
        found = []
        for path, item in app.openapi().get("paths", {}).items():
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
            methods = {m.upper() for m in item if m in HTTP_METHODS}
            found.append((re.compile(f"^{pattern}$"), methods))
        app.state.path_methods = found
    return found


def allowed_methods(request: Request, fallback: str = "") -> list[str]:
    """Every method the request's path supports: the documented ones (with HEAD for GET
    and OPTIONS), or ``fallback`` (Starlette's ``Allow``) for undocumented paths."""
    methods: set[str] = set()
    for pattern, declared in _path_methods(request.app):
        if pattern.match(request.url.path):
            methods |= declared
    if not methods:
        methods = {m.strip().upper() for m in fallback.split(",") if m.strip()}
    if "GET" in methods:
        methods.add("HEAD")
    if methods:
        methods.add("OPTIONS")
    return sorted(methods, key=lambda m: ORDER.index(m) if m in ORDER else len(ORDER))
