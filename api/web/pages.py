"""The web pages: login and the home redirect (the review queue, detail and audit are
in :mod:`api.web.review_pages`, the admin pages in :mod:`api.web.admin_pages`, the
enterprise's pages in :mod:`api.web.enterprise_pages`, the organiser's in
:mod:`api.web.event_pages`).

Every page reads the session cookie; every form post carries the session's CSRF token in a
hidden ``csrf`` field. The pages call the same services as the API routers
(:mod:`api.services`); what is here is HTML, cookies and redirects.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.service.auth import SESSION_COOKIE, SESSION_MAX_AGE_S, same_token
from api.service.authz import ROLE_LABELS, allowed
from api.service.deps import StateDep, User, optional_user, session_data
from api.services import accounts, records
from api.services.review import GROUP_LABELS, STATUS_LABELS

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
PAGE_SIZE = 20
MAX_PAGE = 1_000_000
"""Page numbers beyond this are read as this one (no database integer overflow)."""
KIND_LABELS = records.KIND_LABELS
HOME = {"admin": "/review", "reviewer": "/review", "enterprise": "/enterprise",
        "organizer": "/event"}


def page_user(request: Request) -> User:
    """The logged-in user of a page (anonymous: redirected to /login)."""
    user = optional_user(request)
    if user is None:
        raise HTTPException(401, "需要登录")
    return user


PageUser = Annotated[User, Depends(page_user)]
"""The logged-in user of a page, as a route parameter: ``user: PageUser``."""


def _need_role(user: User, action: str) -> None:
    if not allowed(user.role, action):
        raise HTTPException(403, f"{ROLE_LABELS.get(user.role, user.role)}账号无权访问此页面")


def _check_csrf(request: Request, token: str) -> None:
    data = session_data(request) or {}
    if not same_token(token, data.get("csrf")):
        raise HTTPException(403, "表单已过期或 CSRF 令牌无效：请刷新页面后重试")


need_role = _need_role
"""403 unless ``user``'s role may ``action`` (for the pages of the other modules)."""
check_csrf = _check_csrf
"""403 unless the form's ``csrf`` field is the session's (for the other page modules)."""


def _set_session(request: Request, response: Response, user_id: str | None,
                 csrf: str | None = None, epoch: int = 0) -> None:
    state = request.app.state.service
    secure = bool(state.application.settings.production)
    response.set_cookie(SESSION_COOKIE, state.sessions.dump(user_id, csrf, epoch),
                        max_age=SESSION_MAX_AGE_S, httponly=True, samesite="lax", secure=secure,
                        path="/")


def render(request: Request, name: str, user: User | None, **context: Any) -> HTMLResponse:
    """Render ``name`` with the common context (user, CSRF token, labels)."""
    data = session_data(request) or {}
    csrf = data.get("csrf") or secrets.token_urlsafe(24)
    response = templates.TemplateResponse(request, name, {
        "user": user, "csrf": csrf, "role_labels": ROLE_LABELS,
        "group_labels": GROUP_LABELS, "status_labels": STATUS_LABELS,
        "kind_labels": KIND_LABELS, **context})
    if not data:
        _set_session(request, response, None, csrf)
    return response


# -- login ----------------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """The caller's home page, or the login page."""
    user = optional_user(request)
    return RedirectResponse(HOME.get(user.role, "/login") if user else "/login", 303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, error: str | None = None) -> Response:
    """The login form."""
    return render(request, "login.html", None, error=error)


@router.post("/login")
def login(request: Request, state: StateDep, username: str = Form(...),
          password: str = Form(...), csrf: str = Form("")) -> Response:
    """Check the password; on success start a new session (new CSRF token).

    Failed logins are throttled per account and per client address (429 with Retry-After
    before any hashing); unknown users cost the same hash as known ones.
    """
    _check_csrf(request, csrf)
    address = request.client.host if request.client else "?"
    outcome = accounts.login(state, username, password, address)
    user = outcome.user
    if outcome.retry_after:
        return _login_refused(request, outcome.status, outcome.retry_after, outcome.message)
    if user is None:
        return render(request, "login.html", None, error=outcome.message)
    response = RedirectResponse(HOME.get(user.role, "/"), 303)
    _set_session(request, response, user.id, epoch=user.session_epoch)
    return response


def _login_refused(request: Request, status: int, retry_after: int, message: str) -> Response:
    response = render(request, "login.html", None, error=message)
    response.status_code = status
    response.headers["Retry-After"] = str(retry_after)
    return response


@router.post("/logout")
def logout(request: Request, state: StateDep, csrf: str = Form("")) -> Response:
    """End the session: the account's session epoch moves on, so this cookie (and any copy of
    it, and the account's other sessions) no longer logs in."""
    _check_csrf(request, csrf)
    data = session_data(request) or {}
    if data.get("uid"):
        user = optional_user(request)
        if user is not None:
            accounts.logout(state, user)
    response = RedirectResponse("/login", 303)
    _set_session(request, response, None)
    return response


