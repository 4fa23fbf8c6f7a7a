"""The demand-map page (`/demand-map`), its pictures, and `GET /api/v1/demand-map`.

Every logged-in role may look; enterprise accounts see their own needs plus aggregates (no
other enterprise's need ids or titles, no talent ids, no nearest candidates' identities, no
柔性引进 names). The page uses the full map that the last `talentmatch demand-map` wrote
beside the serving index version (with its change against the snapshot before it); without
one it computes the map on the first request and keeps it per (index version, city, by,
threshold) in a bounded LRU (:data:`CACHE_SIZE` maps). ``threshold`` is clamped to
:data:`THRESHOLD_RANGE` and rounded to two decimals; only the default threshold's map is
written to disk, so odd thresholds cannot fill the index folder.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from api.service.authz import ROLE_LABELS
from api.service.deps import current_user, get_application, session_data
from api.service.throttle import LRU

router = APIRouter(tags=["需求地图"])
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
BY_CHOICES = {"chain,county": "产业链 × 县区", "chain,cluster": "产业链 × 专业方向",
              "cluster,county": "专业方向 × 县区"}
PICTURES = {"heatmap.png": "image/png", "heatmap.svg": "image/svg+xml",
            "bars.png": "image/png", "bars.svg": "image/svg+xml"}
CACHE_SIZE = 8
THRESHOLD_RANGE = (-10.0, 10.0)
"""Fused scores lie in [0, 1]; a trained ranker's logits rarely leave ±10."""
_lock = threading.Lock()
_cache: LRU[tuple[Any, ...], tuple[Any, dict[str, bytes]]] = LRU(CACHE_SIZE)


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
        raise HTTPException(400, f"参数 by 只能取 {', '.join(DIMENSIONS)}（逗号分隔），收到「{value}」")
    return parts


def _version(application: Any) -> str | None:
    from embeddings.persist import VersionedFolder

    return VersionedFolder(Path(application.settings.index_dir)).current_name()


def demand_map_for(application: Any, by: tuple[str, ...], threshold: float | None
                   ) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The map (``DemandMap.to_dict()``) and its pictures, cached per index version.

    The full map written by the last ``talentmatch demand-map`` of this index version is
    used when there is one; otherwise it is computed (and kept) on the first request.
    """
    from api.demand_export import compute, load_cached, previous_snapshot, save_cached
    from api.demand_pictures import MissingCJKFont, bars, heatmap
    from matching.demand_map import apply_previous

    threshold = clamp_threshold(threshold)
    key = (str(Path(application.settings.index_dir).resolve()), _version(application),
           application.settings.city, by, threshold)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            return hit
        data = load_cached(application, by, threshold)
        if data is None:
            dm = compute(application, by=by, threshold=threshold)
            prev_id, prev = previous_snapshot(application, dm.by)
            data = apply_previous(dm, prev, prev_id).to_dict()
            if threshold is None:  # only the default map is kept on disk
                save_cached(application, data, threshold)
        with tempfile.TemporaryDirectory() as tmp:
            rows, cols = [*data["by"], "total"][:2]
            try:
                heatmap(data["cells"], Path(tmp), rows=rows, cols=cols)
                bars(data["clusters"].get("cells", []), Path(tmp))
            except MissingCJKFont as exc:  # a clear 503 with the command, not a 500
                raise HTTPException(503, str(exc)) from exc
            pictures = {name: (Path(tmp) / name).read_bytes() for name in PICTURES}
        _cache.put(key, (data, pictures))
        return data, pictures


@router.get("/api/v1/demand-map", summary="高精尖缺需求地图（企业账号仅见汇总）")
def demand_map_api(by: str = "chain,county", threshold: float | None = None,
                   user: Any = Depends(current_user),
                   application: Any = Depends(get_application)) -> dict[str, Any]:
    """The map as JSON, cut down to what the caller's role may see."""
    from api.demand_export import view_for_role

    data, _ = demand_map_for(application, _by(by), threshold)
    return view_for_role(data, str(user.role), own_need_ids(application, user))


@router.get("/demand-map/{name}", include_in_schema=False)
def demand_map_picture(name: str, by: str = "chain,county", threshold: float | None = None,
                       user: Any = Depends(current_user),
                       application: Any = Depends(get_application)) -> Response:
    """A picture of the map: heatmap.png/svg or bars.png/svg."""
    if name not in PICTURES:
        raise HTTPException(404, f"没有图片「{name}」")
    _, pictures = demand_map_for(application, _by(by), threshold)
    return Response(pictures[name], media_type=PICTURES[name],
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
                    application: Any = Depends(get_application)) -> Response:
    """The page: pictures, the cell table, the 紧缺 and 高精尖 lists, with filters."""
    from api.demand_export import view_for_role

    dims = _by(by)
    full, _ = demand_map_for(application, dims, threshold)
    data = _filtered(view_for_role(full, str(user.role), own_need_ids(application, user)),
                     chain, county)
    query = urlencode({"by": ",".join(dims), **({"threshold": threshold} if threshold else {})})
    cells = full["cells"]
    return templates.TemplateResponse(request, "demand_map.html", {
        "user": user, "csrf": (session_data(request) or {}).get("csrf", ""),
        "role_labels": ROLE_LABELS, "group_labels": _group_labels(), "map": data,
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
