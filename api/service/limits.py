"""Request body size limits (pure ASGI middleware): 413 with a Chinese JSON message.

Uploads (``/api/v1/import/…`` and the admin page's ``/admin/import``) may be up to 20 MB, every other body up to 1 MB. The declared
``Content-Length`` is checked first; a body sent without one is counted as it streams.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException

UPLOAD_LIMIT = 20 * 1024 * 1024
BODY_LIMIT = 1024 * 1024


class _TooLarge(HTTPException):
    """Raised while the body streams in; FastAPI passes HTTP exceptions through."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _message(limit))


def _message(limit: int) -> str:
    return f"请求体过大：上限 {limit // (1024 * 1024)} MB，请拆分文件或减少数据后重试"


def limit_for(path: str) -> int:
    """The body limit in bytes for a request path."""
    uploads = path.startswith("/api/v1/import/") or path == "/admin/import"
    return UPLOAD_LIMIT if uploads else BODY_LIMIT


async def _send_413(send: Any, limit: int) -> None:
    body = json.dumps({"error": "too_large", "message": _message(limit)},
                      ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware enforcing :func:`limit_for`."""

    def __init__(self, app: Any) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Reject oversized bodies with 413 before the app reads them all."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_413(send, limit)
            return
        seen = 0
        started = False

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracking_send)
        except _TooLarge:
            if not started:
                await _send_413(send, limit)
