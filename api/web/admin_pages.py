"""The admin pages (issue #13 §17): accounts, import upload with the row-error report,
「发起结对」 (a pairing run as a background job, with its progress), and the index status.

Long work never runs on the request: a pairing run, an index update and a large import
are jobs; the page shows the job's progress and refreshes itself until it is done.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.services import admin_pages, pairing, transfer
from api.services.errors import ActiveJobExists, DomainError
from api.web.pages import PageUser, StateDep, check_csrf, render

router = APIRouter(include_in_schema=False)
ENTITY_LABELS = {"talents": "人才", "enterprises": "企业", "needs": "企业需求",
                 "challenges": "揭榜挂帅", "projects": "归根项目"}
ROLE_CHOICES = {"admin": "管理员", "reviewer": "审核员", "enterprise": "企业",
                "organizer": "活动组织者"}
SOLVERS = {"flow": "最小费用流（默认）", "fair": "公平优先", "greedy": "贪心"}


def _go(path: str, **query: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode(query)}" if query else path, 303)


# -- accounts -------------------------------------------------------------------------------
@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, state: StateDep, user: PageUser, error: str | None = None,
               done: str | None = None, password: str | None = None,
               who: str | None = None) -> Response:
    """Every account; add one, disable / enable, reset a password."""
    admin_pages.only_admin(user)
    return render(request, "admin_users.html", user, users=admin_pages.users(state, user),
                  roles=ROLE_CHOICES, error=error, done=done, new_password=password, who=who,
                  cities=admin_pages.city_choices(state, user))


@router.post("/admin/users")
def users_add(request: Request, state: StateDep, user: PageUser, username: str = Form(""),
              role: str = Form(...), work_group: str = Form(""),
              enterprise_id: str = Form(""), password: str = Form(""),
              city: str = Form(""), csrf: str = Form("")) -> Response:
    """Create an account (in ``city``; empty: unscoped)."""
    check_csrf(request, csrf)
    admin_pages.only_admin(user)
    try:
        admin_pages.add_user(state, username, role, work_group, enterprise_id, password,
                             city=city, me=user)
    except (DomainError, ValueError) as exc:
        return _go("/admin/users", error=getattr(exc, "message", None) or str(exc))
    return _go("/admin/users", done=f"已添加账号 {username.strip()}")


@router.post("/admin/users/{username}/disable")
def users_disable(request: Request, username: str, state: StateDep, user: PageUser,
                  enable: str = Form(""), csrf: str = Form("")) -> Response:
    """Disable (or, with ``enable``, re-enable) an account."""
    check_csrf(request, csrf)
    admin_pages.only_admin(user)
    try:
        admin_pages.set_disabled(state, user, username, not enable)
    except DomainError as exc:
        return _go("/admin/users", error=exc.message)
    return _go("/admin/users", done=f"已{'启用' if enable else '停用'}账号 {username}")


@router.post("/admin/users/{username}/password")
def users_password(request: Request, username: str, state: StateDep, user: PageUser,
                   csrf: str = Form("")) -> Response:
    """Reset a password to a random one, shown once on the page."""
    check_csrf(request, csrf)
    admin_pages.only_admin(user)
    try:
        password = admin_pages.reset_password(state, username, user)
    except DomainError as exc:
        return _go("/admin/users", error=exc.message)
    return render(request, "admin_users.html", user, users=admin_pages.users(state, user),
                  roles=ROLE_CHOICES, error=None, done=f"已重置 {username} 的密码",
                  new_password=password, who=username,
                  cities=admin_pages.city_choices(state, user))


# -- import ---------------------------------------------------------------------------------
@router.get("/admin/import", response_class=HTMLResponse)
def import_page(request: Request, state: StateDep, user: PageUser,
                job: str | None = None) -> Response:
    """The upload form; a queued large import's progress and, when done, its report."""
    admin_pages.only_admin(user)
    shown = admin_pages.latest_job(state, user, "import", job) if job else None
    report = (shown or {}).get("result") if shown and shown.get("status") == "succeeded" \
        else None
    return render(request, "admin_import.html", user, entities=ENTITY_LABELS, job=shown,
                  report=report, error=None, journal=transfer.journal(state.application, user, 10))


@router.post("/admin/import", response_class=HTMLResponse)
def import_upload(request: Request, state: StateDep, user: PageUser, entity: str = Form(...),
                  file: UploadFile = File(...), csrf: str = Form("")) -> Response:
    """Import the uploaded file: the row-error report now, or the job for a large file."""
    check_csrf(request, csrf)
    admin_pages.only_admin(user)
    size = file.size if file.size is not None else 0
    try:
        answer, queued = transfer.upload(state, user, entity, file.filename, file.file, size)
    except DomainError as exc:
        return render(request, "admin_import.html", user, entities=ENTITY_LABELS, job=None,
                      report=None, error=exc.message,
                      journal=transfer.journal(state.application, user, 10))
    if queued:
        return _go("/admin/import", job=str(answer["id"]))
    return render(request, "admin_import.html", user, entities=ENTITY_LABELS, job=None,
                  report=answer, error=None, journal=transfer.journal(state.application, user, 10))


# -- 发起结对 -------------------------------------------------------------------------------
@router.get("/admin/pairing", response_class=HTMLResponse)
def pairing_page(request: Request, state: StateDep, user: PageUser, job: str | None = None,
                 error: str | None = None) -> Response:
    """The form of a pairing run, the running (or last) run's progress, and recent runs."""
    admin_pages.only_admin(user)
    shown = admin_pages.latest_job(state, user, "pairing", job)
    return render(request, "admin_pairing.html", user, job=shown, solvers=SOLVERS,
                  runs=pairing.recent_runs(state, 10), error=error)


@router.post("/admin/pairing")
def pairing_start(request: Request, state: StateDep, user: PageUser, solver: str = Form("flow"),
                  max_load: int = Form(3), demand: int = Form(1), min_score: float = Form(0.0),
                  k: int = Form(20), csrf: str = Form("")) -> Response:
    """Queue a pairing run with the form's parameters (a running one is shown instead)."""
    check_csrf(request, csrf)
    admin_pages.only_admin(user)
    if not (1 <= max_load <= 50 and 1 <= demand <= 10 and 1 <= k <= 100
            and -10.0 <= min_score <= 10.0):
        return _go("/admin/pairing", error="参数超出范围：每位专家对接需求数 1–50，每个需求专家数 "
                   "1–10，候选数 k 1–100，最低得分 -10–10")
    try:
        job = pairing.start(state, user, solver=solver, max_load=max_load, demand=demand,
                            min_score=min_score, k=k)
    except ActiveJobExists as exc:
        return _go("/admin/pairing", job=str(exc.job_id),
                   error="已有结对运行正在进行，下面显示它的进度")
    except DomainError as exc:
        return _go("/admin/pairing", error=exc.message)
    return _go("/admin/pairing", job=str(job["id"]))


# -- index ----------------------------------------------------------------------------------
@router.get("/admin/index", response_class=HTMLResponse)
def index_page(request: Request, state: StateDep, user: PageUser, job: str | None = None,
               error: str | None = None) -> Response:
    """The serving index version, its encoder and counts, versions, and an update button."""
    admin_pages.only_admin(user)
    return render(request, "admin_index.html", user, status=admin_pages.index_status(state),
                  job=admin_pages.latest_job(state, user, "index_update", job), error=error)


@router.post("/admin/index")
def index_update(request: Request, state: StateDep, user: PageUser,
                 csrf: str = Form("")) -> Response:
    """Queue an index update (a full build when none is serving)."""
    check_csrf(request, csrf)
    admin_pages.only_admin(user)
    try:
        job = transfer.start_index_update(state, user)
    except ActiveJobExists as exc:
        return _go("/admin/index", job=str(exc.job_id))
    return _go("/admin/index", job=str(job["id"]))
