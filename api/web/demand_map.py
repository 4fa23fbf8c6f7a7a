"""The demand-map page (`/demand-map`), its pictures, and `GET /api/v1/demand-map`.

Every logged-in role may look; enterprise accounts see their own needs plus aggregates (no
other enterprise's need ids or titles, no talent ids, no nearest candidates' identities, no
柔性引进 names). Requests only read the full map saved for the serving index version (by a
``demand_map`` job, or by `talentmatch demand-map`): when there is none, a ``demand_map`` job
is queued and the API answers 202 with it (the page says it is being computed and refreshes
itself). After an index update the page shows the last map of the older index version,
with a note saying so, until an admin recomputes it; it never queues a computation while it
has a map to show. ``POST /api/v1/demand-map/recompute`` (admin) recomputes on demand. The rules are in
:mod:`api.services.demand_map`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.service.authz import ROLE_LABELS, require
from api.service.deps import CurrentUser, StateDep, User, session_data
from api.service.http import accepted, download
from api.service.schemas import DemandMapOut, JobOut, Pending
from api.services import demand_map, jobs
from api.services.review import GROUP_LABELS
from api.services.types import JSONObject

router = APIRouter(tags=["需求地图"])
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
BY_CHOICES = {"chain,county": "产业链 × 县区", "cluster,county": "专业方向 × 县区"}
"""The views offered on the page (产业链 × 专业方向 is left out while the expertise clusters
mirror the chains: it would show a diagonal)."""
BY_PATTERN = r"^(chain|county|cluster|kind)(,(chain|county|cluster|kind))*$"
BY_QUERY = Query("chain,county", pattern=BY_PATTERN,
                 description="单元维度（逗号分隔）：chain 产业链 / county 县区 / cluster 专业方向 / kind 需求类型")


def _pending(job: JSONObject) -> Response:
    body = Pending(message="需求地图尚未计算（当前索引版本），正在后台计算：请稍后重试",
                   job=JobOut.model_validate(job))
    return JSONResponse(body.model_dump(mode="json"), status_code=202,
                        headers={"Location": f"/api/v1/jobs/{job['id']}", "Retry-After": "3"})


@router.get("/api/v1/demand-map", summary="高精尖缺需求地图（企业账号仅见汇总；未计算时 202）",
            response_model=DemandMapOut, response_model_exclude_unset=True,
            responses={202: {"model": Pending, "description": "尚未计算：已排入后台任务"}})
def demand_map_api(user: CurrentUser, state: StateDep, by: str = BY_QUERY,
                   threshold: float | None = None) -> JSONObject | Response:
    """The saved map as JSON, cut down to what the caller's role may see (202 while it is
    being computed)."""
    found = demand_map.saved_or_job(state, user, demand_map.parse_by(by), threshold)
    if found.full is None:
        return _pending(demand_map.pending_job(found))
    return demand_map.view(state.application, user, found.full)


@router.post("/api/v1/demand-map/recompute", status_code=202, response_model=JobOut,
             summary="重新计算需求地图（后台任务）")
def demand_map_recompute(response: Response,
                         user: Annotated[User, Depends(require("demand_map.compute"))],
                         state: StateDep, by: str = BY_QUERY,
                         threshold: float | None = None) -> JSONObject:
    """Queue a recomputation of the map of the serving index version."""
    return accepted(response, demand_map.recompute(state, user, demand_map.parse_by(by),
                                                   threshold))


@router.get("/demand-map/download", include_in_schema=False)
def demand_map_download(user: CurrentUser, state: StateDep, by: str = "chain,county",
                        threshold: float | None = None, format: str = "xlsx") -> FileResponse:
    """The saved map as the caller may see it: scarce.xlsx or demand_map.csv."""
    return download(demand_map.download(state.application, user, demand_map.parse_by(by),
                                        threshold, format), no_store=True)


@router.post("/demand-map/recompute", include_in_schema=False)
def demand_map_recompute_page(request: Request,
                              user: Annotated[User, Depends(require("demand_map.compute"))],
                              state: StateDep, by: str = Form("chain,county"),
                              csrf: str = Form("")) -> Response:
    """The admin's 重新计算 button: queue the job and come back to the page, which shows the
    last map and the job's progress until the new one is saved."""
    from api.web.pages import _check_csrf

    _check_csrf(request, csrf)
    dims = demand_map.parse_by(by)
    job_id = demand_map.recompute_or_running(state, user, dims)
    return RedirectResponse(f"/demand-map?{urlencode({'by': ','.join(dims), 'job': job_id})}",
                            303)


@router.get("/demand-map/{name}", include_in_schema=False)
def demand_map_picture(name: str, user: CurrentUser, state: StateDep,
                       by: str = "chain,county", threshold: float | None = None) -> Response:
    """A picture of the saved map: heatmap.png/svg or bars.png/svg (404 before it exists)."""
    content, media_type = demand_map.picture_of(state.application, demand_map.parse_by(by),
                                                threshold, name, user)
    return Response(content, media_type=media_type,
                    headers={"Cache-Control": "private, max-age=60"})


@router.get("/demand-map", response_class=HTMLResponse, include_in_schema=False)
def demand_map_page(request: Request, user: CurrentUser, state: StateDep,
                    by: str = "chain,county", threshold: float | None = None,
                    chain: str = "", county: str = "", job: str | None = None) -> Response:
    """The page: pictures, the cell table, the 紧缺 and 高精尖 lists, with filters (or the
    progress of the job computing the map)."""
    dims = demand_map.parse_by(by)
    found = demand_map.saved_or_job(state, user, dims, threshold, older_ok=True)
    common = {"user": user, "csrf": (session_data(request) or {}).get("csrf", ""),
              "role_labels": ROLE_LABELS, "group_labels": dict(GROUP_LABELS)}
    if found.full is None:
        return templates.TemplateResponse(request, "demand_map_pending.html", {
            **common, "job": found.job}, status_code=202)
    data = demand_map.view(state.application, user, found.full, chain, county)
    query = urlencode({"by": ",".join(dims), **({"threshold": threshold} if threshold else {})})
    cells: list[dict[str, dict[str, str]]] = found.full["cells"]  # type: ignore[assignment]
    running = jobs.visible(state, user, job) if job else None
    return templates.TemplateResponse(request, "demand_map.html", {
        **common, "map": data,
        "query": query, "by_choices": BY_CHOICES, "filters": {
            "by": ",".join(dims), "threshold": threshold or "", "chain": chain,
            "county": county},
        "chains": sorted({c["key"].get("chain", "") for c in cells} - {""}),
        "counties": sorted({c["key"].get("county", "") for c in cells} - {""}),
        "identities": str(user.role) != "enterprise",
        "may_recompute": str(user.role) == "admin", "older": found.older,
        "recompute": jobs.view(running) if running is not None else None})
