"""The web pages: login, review queue and detail, enterprise needs, event exports, audit.

Every page reads the session cookie; every form post carries the session's CSRF token in a
hidden ``csrf`` field. The pages call the same functions as the API routers.
"""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.service import masking
from api.service.auth import SESSION_COOKIE, SESSION_MAX_AGE_S, HashingBusy, same_token
from api.service.authz import ROLE_LABELS, allowed
from api.service.deps import get_state, optional_user, session_data
from api.service.routers import events as event_routes
from api.service.routers import jobs as jobs_api
from api.service.routers.matching import need_matches
from api.service.routers.reviews import GROUP_LABELS, STATUS_LABELS, audit, decide, queue
from data.records import Need, NeedKind
from data.store.users import User
from data.taxonomy import kind_labels

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
PAGE_SIZE = 20
KIND_LABELS = kind_labels()
FEATURE_LABELS = {"dense": "语义相似", "lexical": "关键词", "coverage": "专长覆盖",
                  "same_chain": "同产业链", "kind_fit": "需求类型契合", "tie": "乡情联系",
                  "availability": "可在平时间", "seniority": "资历", "freshness": "信息新鲜度",
                  "retrieval": "检索得分", "dense_profile": "画像相似", "dense_items": "成果相似"}
HOME = {"admin": "/review", "reviewer": "/review", "enterprise": "/enterprise",
        "organizer": "/event"}


def page_user(request: Request) -> User:
    """The logged-in user of a page (anonymous: redirected to /login)."""
    user = optional_user(request)
    if user is None:
        raise HTTPException(401, "需要登录")
    return user


def _need_role(user: User, action: str) -> None:
    if not allowed(user.role, action):
        raise HTTPException(403, f"{ROLE_LABELS.get(user.role, user.role)}账号无权访问此页面")


def _check_csrf(request: Request, token: str) -> None:
    data = session_data(request) or {}
    if not same_token(token, data.get("csrf")):
        raise HTTPException(403, "表单已过期或 CSRF 令牌无效：请刷新页面后重试")


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
def login(request: Request, username: str = Form(...), password: str = Form(...),
          csrf: str = Form(""), state: Any = Depends(get_state)) -> Response:
    """Check the password; on success start a new session (new CSRF token).

    Failed logins are throttled per account and per client address (429 with Retry-After
    before any hashing); unknown users cost the same hash as known ones.
    """
    _check_csrf(request, csrf)
    name = username.strip()
    address = request.client.host if request.client else "?"
    wait = state.throttle.attempt(name, address)  # counted as failed until it succeeds
    if wait:
        return _login_refused(request, 429, wait,
                              f"登录失败次数过多，请 {wait} 秒后再试（按账号和来源地址限制）")
    user = state.application.store.get_user(name)
    try:
        ok = state.passwords.check(user, password)
    except HashingBusy:
        return _login_refused(request, 503, 5, "登录请求过多，请稍后重试")
    if not ok or user is None:
        return render(request, "login.html", None, error="用户名或密码错误，或账号已停用")
    state.throttle.succeeded(name, address)
    response = RedirectResponse(HOME.get(user.role, "/"), 303)
    _set_session(request, response, user.id, epoch=user.session_epoch)
    return response


def _login_refused(request: Request, status: int, retry_after: int, message: str) -> Response:
    response = render(request, "login.html", None, error=message)
    response.status_code = status
    response.headers["Retry-After"] = str(retry_after)
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""), state: Any = Depends(get_state)) -> Response:
    """End the session: the account's session epoch moves on, so this cookie (and any copy of
    it, and the account's other sessions) no longer logs in."""
    _check_csrf(request, csrf)
    data = session_data(request) or {}
    if data.get("uid"):
        user = optional_user(request)
        if user is not None:
            state.application.store.end_sessions(user.id)
            state.forget_users()
    response = RedirectResponse("/login", 303)
    _set_session(request, response, None)
    return response


# -- review ---------------------------------------------------------------------------------
@router.get("/review", response_class=HTMLResponse)
def review_queue(request: Request, group: str | None = None, status: str | None = "proposed",
                 chain: str | None = None, county: str | None = None, page: int = 1,
                 user: User = Depends(page_user), state: Any = Depends(get_state)) -> Response:
    """The review queue with filters and paging."""
    _need_role(user, "suggestions.read")
    group = group or None
    status = status or None
    items = queue(state, user, group=group, status=status, chain=chain or None,
                  county=county or None)
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(1, page), pages)
    params = {"group": group or "", "status": status or "", "chain": chain or "",
              "county": county or ""}
    return render(request, "queue.html", user, items=items[(page - 1) * PAGE_SIZE:
                                                            page * PAGE_SIZE],
                  total=len(items), page=page, pages=pages, filters=params,
                  query=urlencode(params),
                  chains=sorted({i["chain"] for i in items if i.get("chain")}))


def _detail_context(state: Any, user: User, suggestion_id: str) -> dict[str, Any]:
    from api.service.routers.reviews import suggestion_for

    s = suggestion_for(state, user, suggestion_id)
    store = state.application.store
    need = store.get("needs", s.need_id) or store.get("challenges", s.need_id)
    talent = store.get("talents", s.talent_id)
    match, alternates, flags, strength_zh = None, [], [], ""
    if need is not None:
        try:
            result = state.match_need(need, 50)
        except Exception:  # the index may be missing: show the stored features only
            result = {"matches": [], "dropped": []}
        strength_zh = result.get("strength_zh", "")
        match = next((m for m in result["matches"] if m["talent_id"] == s.talent_id), None)
        alternates = [m for m in result["matches"] if m["talent_id"] != s.talent_id][:5]
        flags = list(match["flags"]) if match else []
        flags += [r for d in result["dropped"] if d["talent_id"] == s.talent_id
                  for r in d["reasons"]]
    values = (match or {}).get("contributions") or dict(s.features)
    top = max([abs(v) for v in values.values()] + [1e-9])
    bars = [{"name": k, "label": FEATURE_LABELS.get(k, k), "value": v,
             "width": round(100 * abs(v) / top, 1), "negative": v < 0}
            for k, v in sorted(values.items(), key=lambda kv: -abs(kv[1]))]
    return {"s": s, "need": need, "talent": talent, "bars": bars, "flags": flags,
            "alternates": alternates, "strength_zh": strength_zh,
            "explanation": s.explanation or
            (match or {}).get("explanation", ""),
            "decisions": audit(state, user, suggestion_id=suggestion_id)}


@router.get("/review/{suggestion_id}", response_class=HTMLResponse)
def review_detail(request: Request, suggestion_id: str, error: str | None = None,
                  user: User = Depends(page_user), state: Any = Depends(get_state)) -> Response:
    """A suggestion: explanation, contribution bars, flags, alternates and the decision form."""
    _need_role(user, "suggestions.read")
    return render(request, "detail.html", user, error=error,
                  **_detail_context(state, user, suggestion_id))


@router.post("/review/{suggestion_id}/decision")
def review_decide(request: Request, suggestion_id: str, status: str = Form(...),
                  reason: str = Form(""), version: int = Form(...), csrf: str = Form(""),
                  user: User = Depends(page_user), state: Any = Depends(get_state)) -> Response:
    """Apply the decision form; a stale version shows the page again with the conflict."""
    from data.store.errors import VersionConflict

    _check_csrf(request, csrf)
    _need_role(user, "suggestions.decide")
    if not reason.strip():
        return review_detail(request, suggestion_id, "请填写理由", user, state)
    try:
        decide(state, user, suggestion_id, status, reason, version)
    except VersionConflict as exc:
        return review_detail(request, suggestion_id, str(exc), user, state)
    return RedirectResponse(f"/review/{suggestion_id}?done=1", 303)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, page: int = 1, user: User = Depends(page_user),
               state: Any = Depends(get_state)) -> Response:
    """The audit trail: who, when, from, to, why."""
    _need_role(user, "audit.read")
    page = max(1, page)
    rows = audit(state, user, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return render(request, "audit.html", user, rows=rows[:PAGE_SIZE], page=page,
                  more=len(rows) > PAGE_SIZE)


# -- enterprise -----------------------------------------------------------------------------
@router.get("/enterprise", response_class=HTMLResponse)
def enterprise_home(request: Request, error: str | None = None,
                    user: User = Depends(page_user), state: Any = Depends(get_state)) -> Response:
    """The enterprise's needs and the form to post one."""
    _need_role(user, "needs.write")
    store = state.application.store
    needs = [n for e in ("needs", "challenges") for n in store.iter(e)
             if user.role == "admin" or n.enterprise_id == user.enterprise_id][:200]
    enterprise = store.get("enterprises", user.enterprise_id) if user.enterprise_id else None
    taxonomy = state.application.taxonomy
    city = state.application.settings.city
    chains = [e["name"] for e in taxonomy.vocabulary("chain", city).entries]
    return render(request, "enterprise.html", user, needs=needs, enterprise=enterprise,
                  chains=chains, kinds=[k.value for k in NeedKind], error=error)


@router.post("/enterprise/needs")
def enterprise_post_need(request: Request, title: str = Form(...), kind: str = Form("tech"),
                         description: str = Form(""), required_expertise: str = Form(""),
                         chain: str = Form(""), csrf: str = Form(""),
                         user: User = Depends(page_user),
                         state: Any = Depends(get_state)) -> Response:
    """Post a need for the caller's enterprise, then show its masked matches."""
    from api.service.routers.records import canonicalise

    _check_csrf(request, csrf)
    _need_role(user, "needs.write")
    data = {"id": f"N-{uuid.uuid4().hex[:10]}", "enterprise_id": user.enterprise_id,
            "kind": kind, "title": title, "description": description,
            "required_expertise": required_expertise, "chain": chain or None,
            "city": state.application.settings.city}
    try:
        need = Need.model_validate(canonicalise(state, data))
    except ValueError as exc:
        return enterprise_home(request, f"需求无效：{exc}", user, state)
    state.application.store.upsert("needs", [need])
    return RedirectResponse(f"/enterprise/needs/{need.id}", 303)


@router.get("/enterprise/needs/{need_id}", response_class=HTMLResponse)
def enterprise_need(request: Request, need_id: str, user: User = Depends(page_user),
                    state: Any = Depends(get_state)) -> Response:
    """A need and its matches (masked for enterprise accounts)."""
    _need_role(user, "matches.need")
    result = need_matches(state, user, need_id, 20)
    need = state.workflows.need(need_id)
    return render(request, "enterprise_need.html", user, need=need, result=result,
                  masked=masking.is_enterprise(user))


# -- events ---------------------------------------------------------------------------------
@router.get("/event", response_class=HTMLResponse)
def event_page(request: Request, event_id: str = "EV-sample", job: str | None = None,
               user: User = Depends(page_user), state: Any = Depends(get_state)) -> Response:
    """The events, the form to build a shortlist, and the newest shortlist (or the job
    building it: the page refreshes itself until it is done)."""
    _need_role(user, "events.shortlist")
    items = state.application.store.list_events()
    events = [event_routes.SAMPLE_EVENT.model_dump(mode="json"), *items]
    shown = state.jobs.get(job) if job else None
    if shown is not None and not jobs_api.may_see(user, shown):
        shown = None
    if shown is None:
        shown = event_routes.latest_shortlist(state, event_id)
    result = shown.result if shown is not None and shown.status == "succeeded" else None
    return render(request, "event.html", user, events=events, event_id=event_id,
                  result=result, job=jobs_api.job_out(shown) if shown is not None else None)


@router.post("/event/shortlist", response_class=HTMLResponse)
def event_shortlist(request: Request, event_id: str = Form("EV-sample"), m: int = Form(3),
                    csrf: str = Form(""), user: User = Depends(page_user),
                    state: Any = Depends(get_state)) -> Response:
    """Queue the shortlist job and show its progress (a running one is shown instead)."""
    from api.service.schemas import ShortlistIn
    from data.store.errors import ActiveJobExists

    _check_csrf(request, csrf)
    _need_role(user, "events.shortlist")
    try:
        job_id = event_routes.start_shortlist(state, user, event_id, ShortlistIn(m=m)).id
    except ActiveJobExists as exc:
        job_id = exc.job_id
    query = urlencode({"event_id": event_id, "job": job_id})
    return RedirectResponse(f"/event?{query}", 303)
