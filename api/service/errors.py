"""Domain errors → HTTP responses. Every error body is JSON with a Chinese message that
says what to fix: ``{"error": <code>, "message": <text>, "detail": <optional>}``.

The status of each domain error comes from the one table of :mod:`api.services.errors`
(shared with the CLI's exit codes). Anything else — a bare ``ValueError`` from inside the
code included — is a bug: 500, with the trace logged."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.service.contract import allowed_methods
from api.services.errors import CODES, HANDLED, DomainError, status_of
from data.store.errors import ActiveJobExists

logger = logging.getLogger(__name__)

INTERNAL = "服务器内部错误，请稍后重试或联系管理员"


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
    status = status_of(exc)
    if status is None:  # pragma: no cover - only registered for the domain errors
        return _unexpected(request, exc)
    if isinstance(exc, ActiveJobExists):
        return JSONResponse(error_body(409, str(exc), {"job_id": exc.job_id}), 409,
                            headers={"Location": f"/api/v1/jobs/{exc.job_id}"})
    if isinstance(exc, ValidationError):
        detail = _validation_detail(list(exc.errors()))
        fields = "、".join(d["field"] for d in detail if d["field"]) or "记录"
        return JSONResponse(error_body(422, f"数据无效：请检查字段 {fields}", detail), 422)
    if isinstance(exc, DomainError):
        return JSONResponse(error_body(status, exc.message, exc.detail), status,
                            headers=exc.headers)
    return JSONResponse(error_body(status, str(exc)), status)


def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error on %s %s", request.method, request.url.path,
                     exc_info=exc)
    return JSONResponse(error_body(500, INTERNAL), 500)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app`` (anything unexpected: a JSON 500, logged)."""
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    for kind in HANDLED:
        app.add_exception_handler(kind, _domain_error)
