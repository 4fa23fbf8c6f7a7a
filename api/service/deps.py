"""FastAPI dependencies shared by the API routers and the web pages.

* :func:`get_state` — the service state (application, workflows, match cache), and
  :data:`StateDep`, its ``Annotated`` dependency.
* :func:`current_user` — the caller from a bearer token or the session cookie (401 if none),
  and :data:`CurrentUser`; :func:`optional_user` — the same, or None.
* :func:`api.service.authz.require` — the caller whom the authorisation table allows an
  action: ``user: Annotated[User, Depends(require("events.read"))]``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from api.application import Application
from api.service.auth import SESSION_COOKIE, same_token, token_hash
from api.service.state import ServiceState
from data.store.users import User

__all__ = ["CurrentUser", "StateDep", "User", "current_user", "get_application", "get_state",
           "optional_user", "session_data"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_state(request: Request) -> ServiceState:
    """The :class:`api.service.state.ServiceState` of the running app."""
    state: ServiceState = request.app.state.service
    return state


def get_application(request: Request) -> Application:
    """The :class:`api.application.Application` of the running app."""
    return get_state(request).application


def session_data(request: Request) -> dict[str, Any] | None:
    """The verified session cookie content (uid, csrf), or None."""
    if hasattr(request.state, "session"):
        cached: dict[str, Any] | None = request.state.session
        return cached
    data: dict[str, Any] | None = request.app.state.service.sessions.load(
        request.cookies.get(SESSION_COOKIE))
    request.state.session = data
    return data


def _bearer_user(request: Request) -> User | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return get_state(request).user_by_token(token_hash(token.strip()))


def optional_user(request: Request) -> User | None:
    """The caller (bearer token first, then session cookie), or None when anonymous.

    A cookie-authenticated call with an unsafe method must carry the session's CSRF token
    in the ``X-CSRF-Token`` header (forms check their own hidden field).
    """
    if request.headers.get("authorization"):
        user = _bearer_user(request)
        if user is None:
            raise HTTPException(401, "API 令牌无效或已停用：请检查 Authorization: Bearer <令牌>")
        return user
    data = session_data(request)
    if not data or not data.get("uid"):
        return None
    user = get_state(request).user_by_id(data["uid"])
    if user is None or user.disabled or data.get("ep", 0) != user.session_epoch:
        return None  # unknown, disabled, or revoked (logout, password change, disable)
    if request.url.path.startswith("/api/") and request.method not in SAFE_METHODS and \
            not same_token(request.headers.get("x-csrf-token"), data.get("csrf")):
        raise HTTPException(403, "缺少或错误的 CSRF 令牌：请在请求头 X-CSRF-Token 中附上会话令牌")
    return user


def current_user(request: Request) -> User:
    """The authenticated caller; 401 (JSON, Chinese) when anonymous or disabled."""
    user = optional_user(request)
    if user is None:
        raise HTTPException(401, "需要登录：请提供 Authorization: Bearer <令牌>，或在 /login 登录",
                            headers={"WWW-Authenticate": "Bearer"})
    return user


StateDep = Annotated[ServiceState, Depends(get_state)]
"""The service state, as a route parameter: ``state: StateDep``."""

CurrentUser = Annotated[User, Depends(current_user)]
"""The authenticated caller, as a route parameter: ``user: CurrentUser``."""
