"""The work groups' pages (issue #13 §1–6): the review queue with bulk decisions, a
suggestion read from its run, the 资智结对名单 downloads, and the audit trail.

Filters, sort and page travel with every link and form (the ``back`` query), so a decision
returns to the same page of the same queue.
"""

from __future__ import annotations

import shutil
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.service.http import download
from api.services import pairing, review, review_detail, review_export
from api.services.errors import Invalid
from api.web.pages import PageUser, StateDep, check_csrf, need_role, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
MAX_PAGE = 1_000_000
FILTER_KEYS = ("group", "status", "chain", "county", "q", "sort", "run")


def _filters(group: str | None, status: str | None, chain: str | None, county: str | None,
             q: str | None, sort: str | None, run: str | None = None) -> dict[str, str]:
    return {"group": group or "", "status": status if status is not None else "proposed",
            "chain": chain or "", "county": county or "", "q": (q or "").strip(),
            "sort": sort or "", "run": run or ""}


def _back(back: str) -> dict[str, str]:
    """The queue filters (and page) a form came from."""
    pairs = dict(parse_qsl(back, keep_blank_values=True))
    return {k: pairs[k] for k in (*FILTER_KEYS, "page") if k in pairs}


def _pages(page: int, pages: int) -> list[int]:
    """Page numbers to link: the first, the last, and two around the current one."""
    shown = {1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)}
    return sorted(shown)


@router.get("/review", response_class=HTMLResponse)
def review_queue(request: Request, state: StateDep, user: PageUser, group: str | None = None,
                 status: str | None = None, chain: str | None = None,
                 county: str | None = None, q: str | None = None, sort: str | None = None,
                 run: str | None = None, page: int = 1, done: int | None = None,
                 error: str | None = None) -> Response:
    """The review queue: filters, search, sort, page numbers, checkboxes and bulk decisions."""
    need_role(user, "suggestions.read")
    filters = _filters(group, status, chain, county, q, sort, run)
    app = state.application
    items = review.queue(app, user, group=filters["group"] or None,
                         status=filters["status"] or None, chain=filters["chain"] or None,
                         county=filters["county"] or None, q=filters["q"] or None,
                         sort=filters["sort"] or None, run_id=filters["run"] or None)
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(1, page), pages, MAX_PAGE)
    query = urlencode(filters)
    back = urlencode({**filters, "page": page})
    runs = pairing.run_ids(state)
    return render(request, "queue.html", user,
                  items=items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], total=len(items),
                  page=page, pages=pages, page_links=_pages(page, pages), filters=filters,
                  query=query, back=back, choices=review.choices(app, user), runs=runs,
                  done=done, error=error)


@router.post("/review/bulk")
def review_bulk(request: Request, state: StateDep, user: PageUser,
                ids: Annotated[list[str] | None, Form()] = None, status: str = Form(...),
                preset: str = Form(""), note: str = Form(""), confirm: str = Form(""),
                back: str = Form(""), csrf: str = Form("")) -> Response:
    """Decide every checked suggestion; back to the same page of the same queue."""
    check_csrf(request, csrf)
    need_role(user, "suggestions.decide")
    reason = "；".join(x.strip() for x in (preset, note) if x.strip())
    target = _back(back)
    try:
        outcome = review.decide_many(state.application, user, list(ids or []), status, reason,
                                     confirm=bool(confirm))
    except Invalid as exc:
        return RedirectResponse(f"/review?{urlencode({**target, 'error': exc.message})}", 303)
    done = outcome["done"]
    notes = []
    if outcome["stale"]:
        notes.append(f"{len(outcome['stale'])} 条已被他人修改，未处理：请刷新后重试")  # type: ignore[arg-type]
    if outcome["approved_kept"]:
        notes.append(f"{len(outcome['approved_kept'])} 条已批准，需勾选“确认更改已批准的决定”")  # type: ignore[arg-type]
    query = {**target, "done": str(len(done))}  # type: ignore[arg-type]
    if notes:
        query["error"] = "；".join(notes)
    return RedirectResponse(f"/review?{urlencode(query)}", 303)


@router.get("/pair-list")
def review_export_file(state: StateDep, user: PageUser, format: str = "xlsx",
                       group: str | None = None, status: str | None = None,
                       chain: str | None = None, county: str | None = None,
                       q: str | None = None, run: str | None = None,
                       date_from: str | None = None, date_to: str | None = None,
                       contacts: bool = False) -> Response:
    """The 资智结对名单 as xlsx / csv, or its print view (html, shown in the browser)."""
    need_role(user, "suggestions.read")
    found = review_export.pair_list_file(
        state.application, user, format, run_id=run or None, group=group or None,
        status=status or None, chain=chain or None, county=county or None, q=q or None,
        date_from=date_from or None, date_to=date_to or None, contacts=contacts)
    if format == "html":
        html = found.path.read_text(encoding="utf-8")
        if found.cleanup is not None:
            shutil.rmtree(found.cleanup, True)
        return HTMLResponse(html)
    return download(found, no_store=True)


@router.get("/review/{suggestion_id}", response_class=HTMLResponse)
def review_detail_page(request: Request, suggestion_id: str, state: StateDep, user: PageUser,
                       error: str | None = None, done: str | None = None) -> Response:
    """A suggestion as its run stored it; 上一条 / 下一条 within the queue it came from."""
    need_role(user, "suggestions.read")
    filters = _back(str(request.url.query))
    filters.setdefault("status", "proposed")
    shown = review_detail.page_detail(state.application, user, suggestion_id, filters)
    return render(request, "detail.html", user, error=error, done=done,
                  back=urlencode(filters), choices=review.choices(state.application, user),
                  **shown.context())


@router.post("/review/{suggestion_id}/decision")
def review_decide(request: Request, suggestion_id: str, state: StateDep, user: PageUser,
                  status: str = Form(...), reason: str = Form(""), preset: str = Form(""),
                  version: int = Form(...), confirm: str = Form(""), back: str = Form(""),
                  csrf: str = Form("")) -> Response:
    """Apply the decision; then the next suggestion of the same queue (or the queue)."""
    check_csrf(request, csrf)
    need_role(user, "suggestions.decide")
    filters = _back(back)
    here = f"/review/{suggestion_id}?{urlencode(filters)}"
    text = "；".join(x.strip() for x in (preset, reason) if x.strip())
    if not text:
        return RedirectResponse(f"{here}&{urlencode({'error': '请选择或填写理由'})}", 303)
    app = state.application
    current = review.suggestion_for(app, user, suggestion_id)
    if current.status.value == "approved" and not confirm:
        message = "该推荐已批准：更改已批准的决定需要勾选“确认更改”"
        return RedirectResponse(f"{here}&{urlencode({'error': message})}", 303)
    following = review_detail.next_after(app, user, suggestion_id, filters)
    try:
        review.decide(app, user, suggestion_id, status, text, version)
    except review.VersionConflict as exc:
        return RedirectResponse(f"{here}&{urlencode({'error': str(exc)})}", 303)
    except Invalid as exc:
        return RedirectResponse(f"{here}&{urlencode({'error': exc.message})}", 303)
    if following and following != suggestion_id:
        return RedirectResponse(
            f"/review/{following}?{urlencode({**filters, 'done': suggestion_id})}", 303)
    return RedirectResponse(f"/review/{suggestion_id}?{urlencode({**filters, 'done': suggestion_id})}", 303)


# -- audit ----------------------------------------------------------------------------------
@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, state: StateDep, user: PageUser, page: int = 1,
               actor: str | None = None, group: str | None = None,
               to_status: str | None = None, date_from: str | None = None,
               date_to: str | None = None, q: str | None = None) -> Response:
    """The audit trail: who, when (Beijing time), need, talent, from, to, why; filters and
    downloads."""
    need_role(user, "audit.read")
    page = min(max(1, page), MAX_PAGE)
    filters = {"actor": actor or "", "group": group or "", "to_status": to_status or "",
               "date_from": date_from or "", "date_to": date_to or "", "q": q or ""}
    rows = review_export.audit_rows(state.application, user,
                                    **{k: v or None for k, v in filters.items()},
                                    limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return render(request, "audit.html", user, rows=rows[:PAGE_SIZE], page=page,
                  more=len(rows) > PAGE_SIZE, filters=filters, query=urlencode(filters),
                  tz=review_export.TZ_LABEL)


@router.get("/audit/export")
def audit_export(state: StateDep, user: PageUser, format: str = "xlsx",
                 actor: str | None = None, group: str | None = None,
                 to_status: str | None = None, date_from: str | None = None,
                 date_to: str | None = None, q: str | None = None) -> Response:
    """The filtered audit trail as xlsx or csv (UTF-8 BOM)."""
    need_role(user, "audit.read")
    return download(review_export.audit_file(
        state.application, user, format, actor=actor or None, group=group or None,
        to_status=to_status or None, date_from=date_from or None, date_to=date_to or None,
        q=q or None), no_store=True)
