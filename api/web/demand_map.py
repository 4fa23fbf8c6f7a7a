"""The demand-map page (`/demand-map`), its pictures, and `GET /api/v1/demand-map`.

Every logged-in role may look; enterprise accounts see their own needs plus aggregates (no
other enterprise's need ids or titles, no talent ids, no nearest candidates' identities, no
柔性引进 names). Requests only read the full map saved for the serving index version (by a
``demand_map`` job, or by `talentmatch demand-map`): when there is none, a ``demand_map`` job
is queued and the API answers 202 with it (the page says it is being computed and refreshes
itself). ``POST /api/v1/demand-map/recompute`` (admin) recomputes on demand. ``threshold``
is clamped to :data:`THRESHOLD_RANGE` and rounded to two decimals, which bounds the saved
maps per index version.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from api.demand_service import PICTURES, index_version, picture, saved_map
from api.service.authz import ROLE_LABELS, require
from api.service.deps import current_user, get_application, get_state, session_data
from api.service.routers import jobs as jobs_api
from api.service.schemas import JobOut, Pending
from data.store.errors import ActiveJobExists
from data.store.jobs import INTERRUPTED, Job
from embeddings.persist import IndexNotBuilt

router = APIRouter(tags=["需求地图"])
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
BY_CHOICES = {"chain,county": "产业链 × 县区", "chain,cluster": "产业链 × 专业方向",
              "cluster,county": "专业方向 × 县区"}
THRESHOLD_RANGE = (-10.0, 10.0)
"""Fused scores lie in [0, 1]; a trained ranker's logits rarely leave ±10."""
BY_PATTERN = r"^(chain|county|cluster|kind)(,(chain|county|cluster|kind))*$"
BY_QUERY = Query("chain,county", pattern=BY_PATTERN,
                 description="单元维度（逗号分隔）：chain 产业链 / county 县区 / cluster 专业方向 / kind 需求类型")
RETRY_FAILED_AFTER_S = 60.0
"""A failed computation of the same map is shown (not retried) for this long."""


def clamp_threshold(value: float | None) -> float | None:
    """``value`` clamped to :data:`THRESHOLD_RANGE` and rounded to 0.01 (None: default)."""
    if value is None or value != value:  # None or NaN: the default threshold
        return None
    low, high = THRESHOLD_RANGE
    return round(min(max(float(value), low), high), 2)


def own_need_ids(application: Any, user: Any) -> set[str]:
    """The ids of the needs and challenges of ``user``'s enterprise (empty for others)."""
    if str(user.role) != "enterprise" or not user.enterprise_id:
        return set()
    store = application.store
    return {n.id for entity in ("needs", "challenges") for n in store.iter(entity)
            if getattr(n, "enterprise_id", None) == user.enterprise_id}


def _by(value: str) -> tuple[str, ...]:
    from matching.demand_map import DIMENSIONS

    parts = tuple(p.strip() for p in value.split(",") if p.strip())
    if not parts or any(p not in DIMENSIONS for p in parts):
        raise HTTPException(422, f"参数 by 只能取 {', '.join(DIMENSIONS)}（逗号分隔），收到「{value}」")
    return parts


def _params(by: tuple[str, ...], threshold: float | None) -> dict[str, Any]:
    return {"by": list(by), "threshold": threshold}


def _recent_failure(state: Any, params: dict[str, Any]) -> Job | None:
    """The last job for these parameters if it failed less than a minute ago (a job
    interrupted by a restart does not count: it is simply queued again)."""
    for job in state.application.store.jobs(kind="demand_map", limit=20):
        if job.params == params:
            if job.status != "failed" or job.finished_at is None or job.error == INTERRUPTED:
                return None
            age = (dt.datetime.now(dt.UTC) - job.finished_at).total_seconds()
            return job if age < RETRY_FAILED_AFTER_S else None
    return None


def saved_or_job(state: Any, user: Any, by: tuple[str, ...], threshold: float | None
                 ) -> tuple[dict[str, Any] | None, Job | None]:
    """The saved map, or (None, the job computing it) — queued now when none is running.

    Raises:
        IndexNotBuilt: no index version is serving (503).
    """
    application = state.application
    threshold = clamp_threshold(threshold)
    data = saved_map(application, by, threshold)
    if data is not None:
        return data, None
    if index_version(application) is None:
        raise IndexNotBuilt(Path(application.settings.index_dir))
    params = _params(by, threshold)
    failed = _recent_failure(state, params)
    if failed is not None:
        return None, failed
    try:
        return None, jobs_api.submit(state, user, "demand_map", params)
    except ActiveJobExists as exc:
        return None, state.jobs.get(exc.job_id)


def _pending(job: Job | None) -> Response:
    if job is None:  # pragma: no cover - the active job ended between two reads
        raise HTTPException(503, "需求地图正在更新，请稍后重试", headers={"Retry-After": "2"})
    if job.status == "failed":
        raise HTTPException(503, f"需求地图计算失败：{job.error}；一分钟后可重试，或由管理员 "
                            "POST /api/v1/demand-map/recompute")
    body = Pending(message="需求地图尚未计算（当前索引版本），正在后台计算：请稍后重试",
                   job=JobOut(**jobs_api.job_out(job)))
    return JSONResponse(body.model_dump(mode="json"), status_code=202,
                        headers={"Location": f"/api/v1/jobs/{job.id}", "Retry-After": "3"})


@router.get("/api/v1/demand-map", summary="高精尖缺需求地图（企业账号仅见汇总；未计算时 202）",
            responses={202: {"model": Pending, "description": "尚未计算：已排入后台任务"}})
def demand_map_api(by: str = BY_QUERY, threshold: float | None = None,
                   user: Any = Depends(current_user),
                   state: Any = Depends(get_state)) -> Any:
    """The saved map as JSON, cut down to what the caller's role may see (202 while it is
    being computed)."""
    from api.demand_export import view_for_role

    data, job = saved_or_job(state, user, _by(by), threshold)
    if data is None:
        return _pending(job)
    return view_for_role(data, str(user.role), own_need_ids(state.application, user))


@router.post("/api/v1/demand-map/recompute", status_code=202, response_model=JobOut,
             summary="重新计算需求地图（后台任务）")
def demand_map_recompute(response: Response, by: str = BY_QUERY,
                         threshold: float | None = None,
                         user: Any = Depends(require("demand_map.compute")),
                         state: Any = Depends(get_state)) -> dict[str, Any]:
    """Queue a recomputation of the map of the serving index version."""
    if index_version(state.application) is None:
        raise IndexNotBuilt(Path(state.application.settings.index_dir))
    job = jobs_api.submit(state, user, "demand_map", _params(_by(by), clamp_threshold(threshold)))
    return jobs_api.accepted(response, job)


@router.get("/demand-map/{name}", include_in_schema=False)
def demand_map_picture(name: str, by: str = "chain,county", threshold: float | None = None,
                       user: Any = Depends(current_user),
                       application: Any = Depends(get_application)) -> Response:
    """A picture of the saved map: heatmap.png/svg or bars.png/svg (404 before it exists)."""
    if name not in PICTURES:
        raise HTTPException(404, f"没有图片「{name}」")
    content = picture(application, _by(by), threshold, name)
    if content is None:
        raise HTTPException(404, "需求地图尚未计算：请先打开 /demand-map 页面")
    return Response(content, media_type=PICTURES[name],
                    headers={"Cache-Control": "private, max-age=60"})


def _filtered(data: dict[str, Any], chain: str, county: str) -> dict[str, Any]:
    def keep(item: dict[str, Any]) -> bool:
        key = item.get("key", item)
        return (not chain or key.get("chain") == chain) and \
            (not county or key.get("county") == county)

    return {**data, "cells": [c for c in data["cells"] if keep(c)],
            "scarce": [s for s in data["scarce"] if keep(s)],
            "high_end": [h for h in data["high_end"] if keep(h)]}


@router.get("/demand-map", response_class=HTMLResponse, include_in_schema=False)
def demand_map_page(request: Request, by: str = "chain,county", threshold: float | None = None,
                    chain: str = "", county: str = "", user: Any = Depends(current_user),
                    state: Any = Depends(get_state)) -> Response:
    """The page: pictures, the cell table, the 紧缺 and 高精尖 lists, with filters (or the
    progress of the job computing the map)."""
    from api.demand_export import view_for_role

    dims = _by(by)
    full, job = saved_or_job(state, user, dims, threshold)
    common = {"user": user, "csrf": (session_data(request) or {}).get("csrf", ""),
              "role_labels": ROLE_LABELS, "group_labels": _group_labels()}
    if full is None:
        if job is None:  # pragma: no cover - the active job ended between two reads
            raise HTTPException(503, "需求地图正在更新，请稍后刷新")
        return templates.TemplateResponse(request, "demand_map_pending.html", {
            **common, "job": jobs_api.job_out(job)}, status_code=202)
    data = _filtered(view_for_role(full, str(user.role), own_need_ids(state.application, user)),
                     chain, county)
    query = urlencode({"by": ",".join(dims), **({"threshold": threshold} if threshold else {})})
    cells = full["cells"]
    return templates.TemplateResponse(request, "demand_map.html", {
        **common, "map": data,
        "query": query, "by_choices": BY_CHOICES, "filters": {
            "by": ",".join(dims), "threshold": threshold or "", "chain": chain,
            "county": county},
        "chains": sorted({c["key"].get("chain", "") for c in cells} - {""}),
        "counties": sorted({c["key"].get("county", "") for c in cells} - {""}),
        "identities": str(user.role) != "enterprise"})


def _group_labels() -> dict[str, str]:
    try:
        from api.service.routers.reviews import GROUP_LABELS
    except ImportError:  # pragma: no cover - the reviews router is always there
        return {}
    return dict(GROUP_LABELS)
