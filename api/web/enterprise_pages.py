"""The enterprise's pages: its needs, the need form (post, edit, close) and a need's matches
with each candidate's review status.

Form errors are shown next to their field, in Chinese (:mod:`api.services.need_form`); the
form keeps what was typed. The rules live in the service layer; here are HTML and redirects.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.services import need_form, need_review, records
from api.services.need_form import FormResult
from api.web.pages import PageUser, _check_csrf, _need_role, render

router = APIRouter(include_in_schema=False)
MATCHES_SHOWN = 20


async def _form(request: Request) -> tuple[dict[str, str], str]:
    """The posted need form as text values, and its CSRF token."""
    data = await request.form()
    values = {f: str(data.get(f) or "") for f in need_form.FIELDS}
    return values, str(data.get("csrf") or "")


def _home(request: Request, user: PageUser, checked: FormResult | None = None,
          status_code: int = 200) -> Response:
    state = request.app.state.service
    shown = records.enterprise_page(state.application, user)
    form = need_form.form_page(state.application, user, records.KIND_LABELS)
    values = checked.values if checked is not None else form.defaults
    response = render(request, "enterprise.html", user, needs=shown.needs,
                      enterprise=shown.enterprise, form=form, values=values,
                      errors=checked.errors if checked is not None else {},
                      labels=need_form.LABELS, action="/enterprise/needs",
                      submit="发布并查看匹配")
    response.status_code = status_code
    return response


@router.get("/enterprise", response_class=HTMLResponse)
def enterprise_home(request: Request, user: PageUser) -> Response:
    """The enterprise's needs and the form to post one."""
    _need_role(user, "needs.write")
    return _home(request, user)


@router.post("/enterprise/needs")
async def enterprise_post_need(request: Request, user: PageUser) -> Response:
    """Post a need for the caller's enterprise (errors: the form again, per field), then
    show its matches; its best candidates enter the work group's queue at once."""
    values, csrf = await _form(request)
    _check_csrf(request, csrf)
    _need_role(user, "needs.write")
    return await run_in_threadpool(_post, request, user, values)


def _post(request: Request, user: PageUser, values: dict[str, str]) -> Response:
    state = request.app.state.service
    checked = need_form.check(state.application, values, new=True,
                              city=need_form.city_of(state.application, user))
    if not checked.ok:
        return _home(request, user, checked, 422)
    need_id = need_form.post(state, user, checked)
    return RedirectResponse(f"/enterprise/needs/{need_id}?posted=1", 303)


@router.get("/enterprise/needs/{need_id}", response_class=HTMLResponse)
def enterprise_need(request: Request, need_id: str, user: PageUser,
                    posted: int = 0) -> Response:
    """A need and its matches: review status per candidate, contacts once approved."""
    _need_role(user, "matches.need")
    state = request.app.state.service
    need = need_form.own_need(state.application, user, need_id)
    result = need_review.matches_with_review(state, user, need_id, MATCHES_SHOWN)
    return render(request, "enterprise_need.html", user, need=need, result=result,
                  masked=user.role == "enterprise", posted=bool(posted))


def _edit_page(request: Request, user: PageUser, need_id: str,
               checked: FormResult | None = None, status_code: int = 200) -> Response:
    state = request.app.state.service
    need = need_form.own_need(state.application, user, need_id)
    form = need_form.form_page(state.application, user, records.KIND_LABELS, need)
    response = render(request, "need_edit.html", user, need=need, form=form,
                      values=checked.values if checked is not None else form.defaults,
                      errors=checked.errors if checked is not None else {},
                      labels=need_form.LABELS, action=f"/enterprise/needs/{need_id}/edit",
                      submit="保存修改")
    response.status_code = status_code
    return response


@router.get("/enterprise/needs/{need_id}/edit", response_class=HTMLResponse)
def enterprise_edit_form(request: Request, need_id: str, user: PageUser) -> Response:
    """The need form filled with the need, to change it or to close it."""
    _need_role(user, "needs.write")
    return _edit_page(request, user, need_id)


@router.post("/enterprise/needs/{need_id}/edit")
async def enterprise_edit(request: Request, need_id: str, user: PageUser) -> Response:
    """Save the changed need (errors: the form again, per field)."""
    values, csrf = await _form(request)
    _check_csrf(request, csrf)
    _need_role(user, "needs.write")
    return await run_in_threadpool(_edit, request, user, need_id, values)


def _edit(request: Request, user: PageUser, need_id: str, values: dict[str, str]) -> Response:
    state = request.app.state.service
    checked = need_form.check(state.application, values, new=False,
                              city=need_form.city_of(state.application, user))
    if not checked.ok:
        return _edit_page(request, user, need_id, checked, 422)
    need_form.edit(state, user, need_id, checked)
    return RedirectResponse(f"/enterprise/needs/{need_id}", 303)


@router.post("/enterprise/needs/{need_id}/close")
async def enterprise_close(request: Request, need_id: str, user: PageUser) -> Response:
    """Close the need (it leaves matching and the review queue's new runs)."""
    _values, csrf = await _form(request)
    _check_csrf(request, csrf)
    _need_role(user, "needs.write")
    await run_in_threadpool(need_form.close, request.app.state.service, user, need_id)
    return RedirectResponse("/enterprise", 303)
