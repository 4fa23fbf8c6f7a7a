"""Domain errors → HTTP responses. Every error body is JSON with a Chinese message that
says what to fix: ``{"error": <code>, "message": <text>, "detail": <optional>}``.

The status of each domain error comes from the one table of :mod:`api.services.errors`
(shared with the CLI's exit codes). Anything else — a bare ``ValueError`` from inside the
code included — is a bug: 500, with the trace logged."""

from __future__ import annotations

import logging
from collections.abc import Callable
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
HTML_STATUSES = frozenset({400, 403, 404, 405, 409, 413, 422, 500, 503})
"""Statuses a page (not ``/api/``) answers with a Chinese HTML error page (issue #13)."""

HtmlRenderer = Callable[[Request, int, str], Response]
_html: list[HtmlRenderer] = []

PYDANTIC_ZH = {
    "missing": "必填", "int_parsing": "须为整数", "int_type": "须为整数",
    "float_parsing": "须为数字", "float_type": "须为数字", "bool_parsing": "须为 true 或 false",
    "bool_type": "须为 true 或 false", "string_type": "须为文本", "string_too_short": "太短",
    "string_too_long": "太长", "greater_than_equal": "太小", "less_than_equal": "太大",
    "greater_than": "太小", "less_than": "太大", "enum": "不在可选值中",
    "literal_error": "不在可选值中", "string_pattern_mismatch": "格式不符",
    "date_from_datetime_parsing": "须为日期 YYYY-MM-DD", "date_parsing": "须为日期 YYYY-MM-DD",
    "datetime_parsing": "须为时间", "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "须为 JSON 对象", "dict_type": "须为 JSON 对象",
    "list_type": "须为列表", "extra_forbidden": "不允许的字段", "value_error": "取值无效",
}
"""Pydantic error types → Chinese (the API's 422 ``detail`` messages)."""


def html_pages(renderer: HtmlRenderer) -> None:
    """Render page errors (a browser asking for a path outside ``/api/``) with ``renderer``."""
    _html[:] = [renderer]


def _zh(error: Any) -> str:
    """A Chinese message for one pydantic error (its own text when it is already Chinese)."""
    kind = str(error.get("type", ""))
    msg = str(error.get("msg", ""))
    if any("\u4e00" <= ch <= "\u9fff" for ch in msg):
        return msg.removeprefix("Value error, ")
    ctx = error.get("ctx") or {}
    zh = PYDANTIC_ZH.get(kind, "取值无效")
    if kind in ("greater_than_equal", "greater_than") and ("ge" in ctx or "gt" in ctx):
        zh = f"不能小于 {ctx.get('ge', ctx.get('gt'))}"
    elif kind in ("less_than_equal", "less_than") and ("le" in ctx or "lt" in ctx):
        zh = f"不能大于 {ctx.get('le', ctx.get('lt'))}"
    elif kind in ("enum", "literal_error") and "expected" in ctx:
        zh = f"须为 {ctx['expected']} 之一"
    elif kind == "string_too_long" and "max_length" in ctx:
        zh = f"最多 {ctx['max_length']} 个字符"
    elif kind == "string_too_short" and "min_length" in ctx:
        zh = f"至少 {ctx['min_length']} 个字符"
    return zh


def error_body(status: int, message: str, detail: Any = None) -> dict[str, Any]:
    """The JSON body of an error response."""
    body: dict[str, Any] = {"error": CODES.get(status, "error"), "message": message}
    if detail is not None:
        body["detail"] = detail
    return body


def _validation_detail(errors: list[Any]) -> list[dict[str, Any]]:
    return [{"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
             "message": _zh(e)} for e in errors]


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and \
        "text/html" in request.headers.get("accept", "")


def _page_error(request: Request, status: int, message: str) -> Response | None:
    """The HTML error page when a browser asked for a page, else None."""
    if _html and status in HTML_STATUSES and _wants_html(request):
        return _html[0](request, status, message)
    return None


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 401 and _wants_html(request):
        return RedirectResponse("/login", status_code=303)
    if exc.status_code == 405:
        allow = ", ".join(allowed_methods(request, (exc.headers or {}).get("Allow", "")))
        if request.method == "OPTIONS" and allow:
            return Response(status_code=204, headers={"Allow": allow})
        message = f"不支持 {request.method} 方法：此地址支持 {allow}"
        page = _page_error(request, 405, message)
        if page is not None:
            page.headers["Allow"] = allow
            return page
        return JSONResponse(error_body(405, message), 405, headers={"Allow": allow})
    page = _page_error(request, exc.status_code, _http_message(exc))
    if page is not None:
        return page
    return JSONResponse(error_body(exc.status_code, _http_message(exc)), exc.status_code,
                        headers=getattr(exc, "headers", None))


def _http_message(exc: StarletteHTTPException) -> str:
    """The Chinese message of an HTTP error (Starlette's English defaults translated)."""
    detail = str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        return "找不到该页面"
    if exc.status_code == 405 and detail == "Method Not Allowed":
        return "不支持的请求方法"
    return detail


def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    detail = _validation_detail(list(exc.errors()))
    fields = "、".join(d["field"] for d in detail if d["field"]) or "请求"
    page = _page_error(request, 422, "参数无效：" + "；".join(
        f"{d['field'] or '请求'} {d['message']}" for d in detail))
    if page is not None:
        return page
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
        page = _page_error(request, status, exc.message)
        if page is not None:
            return page
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
