"""The organiser's pages: events (create one), shortlist versions (generate as a background
job with progress; the button is disabled while it runs) and the downloads of a version.

Every download link names its version, and the files are those the version's job wrote
(:mod:`api.services.event_versions`), so what is downloaded is exactly what the page shows,
with the parameters the page lists. The 签到表 opens in the browser as a print view.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.service.deps import StateDep
from api.service.http import download
from api.services import event_form, event_versions
from api.services.event_form import EventForm
from api.web.pages import PageUser, _check_csrf, _need_role, render

router = APIRouter(include_in_schema=False)
SAMPLE = "EV-sample"


@router.get("/event", response_class=HTMLResponse)
def event_page(request: Request, state: StateDep, user: PageUser, event_id: str = SAMPLE,
               version: str | None = None, job: str | None = None) -> Response:
    """An event: its saved shortlist versions, the form to generate one, the version shown
    (parameters, summary, downloads), and the progress of a running job."""
    _need_role(user, "events.shortlist")
    shown = event_versions.page(state, user, event_id, version, job)
    return render(request, "event.html", user, page=shown, event_id=event_id,
                  controls=event_versions.CONTROLS, defaults=event_versions.DEFAULTS)


@router.post("/event/shortlist", response_class=HTMLResponse)
def event_shortlist(request: Request, state: StateDep, user: PageUser,
                    event_id: str = Form(SAMPLE), m: int = Form(3, ge=1, le=20),
                    meeting_cap: int = Form(4, ge=1, le=20), strong: str = Form(""),
                    csrf: str = Form("")) -> Response:
    """Queue a new shortlist version and show its progress (a running one is shown
    instead)."""
    _check_csrf(request, csrf)
    _need_role(user, "events.shortlist")
    try:
        threshold = float(strong) if strong.strip() else None
    except ValueError:
        threshold = None
    job_id = event_versions.start(state, user, event_id, m=m, meeting_cap=meeting_cap,
                                  strong=threshold)
    return RedirectResponse(f"/event?{urlencode({'event_id': event_id, 'job': job_id})}", 303)


@router.get("/event/{event_id}/versions/{version}/export")
def event_export(event_id: str, version: str, state: StateDep, user: PageUser,
                 format: str = "xlsx", contacts: int = 1) -> FileResponse:
    """One saved version's file (xlsx / csv; html: the 签到表, opened as a print view)."""
    _need_role(user, "events.export")
    file = event_versions.export_version(state.application, user, event_id, version, format,
                                         bool(contacts))
    return download(file, no_store=True, inline=format == "html")


def _new_page(request: Request, user: PageUser, checked: EventForm,
              status_code: int = 200) -> Response:
    state = request.app.state.service
    response = render(request, "event_new.html", user, form=checked,
                      choices=event_form.choices(state.application, user),
                      labels=event_form.LABELS, errors=checked.errors,
                      values=checked.values)
    response.status_code = status_code
    return response


@router.get("/event/new", response_class=HTMLResponse)
def event_new_form(request: Request, user: PageUser) -> Response:
    """The form to create an event."""
    _need_role(user, "events.write")
    return _new_page(request, user, event_form.blank())


@router.post("/event/new")
async def event_create(request: Request, user: PageUser) -> Response:
    """Create the event (errors: the form again, per field) and open its page."""
    data = await request.form()
    _check_csrf(request, str(data.get("csrf") or ""))
    _need_role(user, "events.write")
    values = {f: str(data.get(f) or "") for f in event_form.TEXTS}
    chains = [str(v) for v in data.getlist("theme_chains")]
    needs = [str(v) for v in data.getlist("need_ids")]
    return await run_in_threadpool(_create, request, user, values, chains, needs)


def _create(request: Request, user: PageUser, values: dict[str, str], chains: list[str],
            needs: list[str]) -> Response:
    app = request.app.state.service.application
    checked = event_form.check(app, values, chains, needs, user)
    if checked.errors:
        return _new_page(request, user, checked, 422)
    event_id = event_form.create(app, checked)
    return RedirectResponse(f"/event?{urlencode({'event_id': event_id})}", 303)
