"""Domain errors → HTTP, in one place. Every error body is JSON with a Chinese message that
says what to fix: ``{"error": <code>, "message": <text>, "detail": <optional>}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.service.contract import allowed_methods
from api.workflows import NotFound
from data.io import ImportRefused
from data.store.errors import (
    ActiveJobExists,
    ConstraintError,
    DuplicateIdError,
    NotFoundError,
    VersionConflict,
)
from embeddings.persist import IndexNotBuilt

logger = logging.getLogger(__name__)

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
         500: "internal", 503: "unavailable"}

DOMAIN_ERRORS: tuple[tuple[type[Exception], int], ...] = (
    (ActiveJobExists, 409),
    (VersionConflict, 409),
    (DuplicateIdError, 409),
    (ConstraintError, 409),
    (NotFound, 404),
    (NotFoundError, 404),
    (ImportRefused, 400),
    (IndexNotBuilt, 503),
    (ValidationError, 422),
    (ValueError, 422),  # UnknownValueError (taxonomy) and the other domain value errors
)
"""(exception type, status), the first match wins."""


def error_body(status: int, message: str, detail: Any = None) -> dict[str, Any]:
    """The JSON body of an error response."""
    body: dict[str, Any] = {"error": CODES.get(status, "error"), "message": message}
    if detail is not None:
        body["detail"] = detail
    return body


def _validation_detail(errors: list[Any]) -> list[dict[str, Any]]:
    return [{"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
             "message": str(e.get("msg", ""))} for e in errors]


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and \
        "text/html" in request.headers.get("accept", "")


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 401 and _wants_html(request):
        return RedirectResponse("/login", status_code=303)
    if exc.status_code == 405:
        allow = ", ".join(allowed_methods(request, (exc.headers or {}).get("Allow", "")))
        if request.method == "OPTIONS" and allow:
            return Response(status_code=204, headers={"Allow": allow})
        return JSONResponse(error_body(405, f"不支持 {request.method} 方法：此地址支持 {allow}"),
                            405, headers={"Allow": allow})
    return JSONResponse(error_body(exc.status_code, str(exc.detail)), exc.status_code,
                        headers=getattr(exc, "headers", None))


def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    detail = _validation_detail(list(exc.errors()))
    fields = "、".join(d["field"] for d in detail if d["field"]) or "请求"
    return JSONResponse(error_body(422, f"请求参数无效：请检查字段 {fields}", detail), 422)


def _domain_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ActiveJobExists):
        return JSONResponse(error_body(409, str(exc), {"job_id": exc.job_id}), 409,
                            headers={"Location": f"/api/v1/jobs/{exc.job_id}"})
    for kind, status in DOMAIN_ERRORS:
        if isinstance(exc, kind):
            if isinstance(exc, ValidationError):
                detail = _validation_detail(list(exc.errors()))
                fields = "、".join(d["field"] for d in detail if d["field"]) or "记录"
                return JSONResponse(error_body(422, f"数据无效：请检查字段 {fields}", detail), 422)
            return JSONResponse(error_body(status, str(exc)), status)
    return JSONResponse(error_body(500, "服务器内部错误，请稍后重试或联系管理员"), 500)


def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error on %s %s", request.method, request.url.path,
                     exc_info=exc)
    return JSONResponse(error_body(500, "服务器内部错误，请稍后重试或联系管理员"), 500)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app`` (anything unexpected: a JSON 500, logged)."""
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    for kind, _ in DOMAIN_ERRORS:
        app.add_exception_handler(kind, _domain_error)
