"""The 高精尖缺 demand map: requests only read the full map saved for the serving index
version; when there is none, a ``demand_map`` job computes it (and the caller is told to
come back). The page (``older_ok``) shows instead the last map saved for an older index
version, marked as such, and leaves the recomputation to an admin. Enterprise accounts see
their own needs plus aggregates.

``threshold`` is clamped to :data:`THRESHOLD_RANGE` and rounded to two decimals, which
bounds the saved maps per index version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from api.demand_service import PICTURES, index_version, last_map, picture
from api.demand_service import saved_map as _saved_map
from api.services import cities, jobs
from api.services.errors import Invalid, NotFound, Unavailable
from api.services.types import FileDownload, JSONObject, Progress, User
from api.typed import each
from data.records import Need
from data.store.errors import ActiveJobExists
from data.store.jobs import INTERRUPTED, Job
from embeddings.persist import IndexNotBuilt

if TYPE_CHECKING:
    from api.application import Application
    from api.service.state import ServiceState

THRESHOLD_RANGE = (-10.0, 10.0)
"""Fused scores lie in [0, 1]; a trained ranker's logits rarely leave ±10."""
RETRY_FAILED_AFTER_S = 60.0
"""A failed computation of the same map is shown (not retried) for this long."""


def dimensions() -> tuple[str, ...]:
    """The cell dimensions a map may be cut by."""
    from matching.demand_map import DIMENSIONS

    return tuple(DIMENSIONS)


def parse_by(value: str) -> tuple[str, ...]:
    """``chain,county`` → ``("chain", "county")`` (422 on an unknown dimension)."""
    known = dimensions()
    parts = tuple(p.strip() for p in value.replace("，", ",").split(",") if p.strip())
    if not parts or any(p not in known for p in parts):
        raise Invalid(f"参数 by 只能取 {', '.join(known)}（逗号分隔），收到「{value}」")
    return parts


def clamp_threshold(value: float | None) -> float | None:
    """``value`` clamped to :data:`THRESHOLD_RANGE` and rounded to 0.01 (None: default)."""
    if value is None or value != value:  # None or NaN: the default threshold
        return None
    low, high = THRESHOLD_RANGE
    return round(min(max(float(value), low), high), 2)


def own_need_ids(app: Application, user: User) -> set[str]:
    """The ids of the needs and challenges of ``user``'s enterprise (empty for others)."""
    if str(user.role) != "enterprise" or not user.enterprise_id:
        return set()
    return {n.id for entity in ("needs", "challenges") for n in each(Need, app.store.iter(entity))
            if n.enterprise_id == user.enterprise_id}


def _params(by: Sequence[str], threshold: float | None, city: str | None = None) -> JSONObject:
    """A demand-map job's parameters (``city``: a city-scoped caller's map; none: the
    settings' city, as before)."""
    params: JSONObject = {"by": list(by), "threshold": threshold}
    return {**params, "city": city} if city else params


def city_app(app: Application, user: User | None) -> Application:
    """The application whose ``settings.city`` is the caller's city: a city-scoped caller
    sees (and has computed) its own city's map, never another city's."""
    return app if user is None else app.for_city(cities.scope(user))


def _recent_failure(app: Application, params: JSONObject) -> Job | None:
    """The last job for these parameters if it failed less than a minute ago (a job
    interrupted by a restart does not count: it is simply queued again)."""
    for job in app.store.jobs(kind="demand_map", limit=20):
        if job.params == params:
            if job.status != "failed" or job.finished_at is None or job.error == INTERRUPTED:
                return None
            age = (dt.datetime.now(dt.UTC) - job.finished_at).total_seconds()
            return job if age < RETRY_FAILED_AFTER_S else None
    return None


@dataclass
class MapOrJob:
    """The saved map (``full``), or the job computing it (``job``, a job view).
    ``older`` names the index version ``full`` was computed for when it is not the serving
    one (only with ``older_ok``)."""

    full: JSONObject | None
    job: JSONObject | None
    older: str | None = None


def saved_or_job(state: ServiceState, user: User, by: Sequence[str],
                 threshold: float | None, older_ok: bool = False) -> MapOrJob:
    """The saved map, or the job computing it — queued now when none is running.

    ``job`` may be a computation that failed less than a minute ago (it is shown, not
    retried). With ``older_ok``, when the serving index version has no map yet but an older
    version has, that map is returned (``older``: its version) and nothing is queued.

    Raises:
        IndexNotBuilt: no index version is serving (503).
        Unavailable: the job ended between two reads (503, retry).
    """
    app = city_app(state.application, user)
    threshold = clamp_threshold(threshold)
    data = _saved_map(app, by, threshold)
    if data is not None:
        return MapOrJob(data, None)
    if index_version(app) is None:
        raise IndexNotBuilt(Path(app.settings.index_dir))
    last = last_map(app, by, threshold) if older_ok else None
    if last is not None:
        return MapOrJob(cast("JSONObject", last[0]), None,
                        None if last[1] == index_version(app) else last[1])
    params = _params(by, threshold, cities.scope(user))
    job = _recent_failure(app, params)
    if job is None:
        try:
            job = jobs.submit(state, user, "demand_map", params)
        except ActiveJobExists as exc:
            job = state.jobs.get(exc.job_id)
    if job is None:  # pragma: no cover - the active job ended between two reads
        raise Unavailable("需求地图正在更新，请稍后重试", headers={"Retry-After": "2"})
    return MapOrJob(None, jobs.view(job))


def pending_job(found: MapOrJob) -> JSONObject:
    """The job computing the map, for an API answer of 202.

    Raises:
        Unavailable: the last computation failed a moment ago (503; the page shows it
            instead).
    """
    assert found.job is not None
    if found.job.get("status") == "failed":
        raise Unavailable(f"需求地图计算失败：{found.job.get('error')}；一分钟后可重试，或由管理员 "
                          "POST /api/v1/demand-map/recompute")
    return found.job


def view(app: Application, user: User, full: JSONObject, chain: str = "",
         county: str = "") -> JSONObject:
    """The map cut down to what ``user``'s role may see, optionally to one chain or county."""
    from api.demand_export import view_for_role

    data: JSONObject = view_for_role(full, str(user.role), own_need_ids(app, user))
    _name_talents(app, data, full, masked=str(user.role) not in ("admin", "reviewer",
                                                                  "organizer"))
    if not chain and not county:
        return data

    def keep(item: dict[str, dict[str, str]]) -> bool:
        key = item.get("key", item)
        return (not chain or key.get("chain") == chain) and \
            (not county or key.get("county") == county)

    return {**data, **{name: [c for c in data[name] if keep(c)]  # type: ignore[union-attr,arg-type]
                       for name in ("cells", "scarce", "high_end")}}


def masked_name(name: str) -> str:
    """A name as an enterprise sees it in the map's lists: the surname, then ``*``."""
    return f"{name[:1]}{'*' * max(1, len(name) - 1)}" if name else "—"


def _name_talents(app: Application, data: JSONObject, full: JSONObject, masked: bool) -> None:
    """Add talent names (masked for enterprises) to the 高精尖 and 紧缺 lists of ``data``,
    read from the ids of ``full`` (the unfiltered map), so that no page shows raw ids."""
    high_full = cast("list[dict[str, Any]]", full.get("high_end", []))
    scarce_full = cast("list[dict[str, Any]]", full.get("scarce", []))
    ids = {str(t) for h in high_full for t in h.get("talent_ids", [])}
    ids |= {str(c["talent_id"]) for s in scarce_full for c in s.get("nearest", [])}
    names = {i: str(getattr(r, "name", "") or "")
             for i, r in app.store.get_many("talents", sorted(ids)).items()}

    def name(talent_id: str) -> str:
        found = names.get(talent_id, "")
        return masked_name(found) if masked else (found or talent_id)

    for mine, whole in zip(cast("list[dict[str, Any]]", data.get("high_end", [])), high_full,
                           strict=False):
        mine["talent_names"] = [name(str(t)) for t in whole.get("talent_ids", [])]
    by_need = {str(s.get("need_id")): s for s in scarce_full}
    for item in cast("list[dict[str, Any]]", data.get("scarce", [])):
        whole_item = by_need.get(str(item.get("need_id")), {})
        for mine_c, whole_c in zip(item.get("nearest", []), whole_item.get("nearest", []),
                                   strict=False):
            mine_c["name"] = name(str(whole_c["talent_id"]))


def download(app: Application, user: User, by: Sequence[str], threshold: float | None,
             fmt: str) -> FileDownload:
    """The last saved map (the one the page shows) as the caller may see it, as a file:
    ``xlsx`` (scarce.xlsx: 单元格, 紧缺需求, 高精尖) or ``csv`` (the cells, UTF-8 with BOM).

    Raises:
        Invalid: an unknown format (422).
        NotFound: the map is not computed yet (404).
    """
    from api.demand_tables import write_download

    if fmt not in ("xlsx", "csv"):
        raise Invalid(f"format 须为 xlsx 或 csv，收到「{fmt}」")
    threshold = clamp_threshold(threshold)
    last = last_map(city_app(app, user), by, threshold)
    if last is None:
        raise NotFound("需求地图尚未计算：请先打开 /demand-map 页面")
    data = view(app, user, cast("JSONObject", last[0]))
    path = write_download(data, fmt)
    media = ("text/csv; charset=utf-8" if fmt == "csv" else
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = "demand_map.csv" if fmt == "csv" else "scarce.xlsx"
    return FileDownload(path, media, name, cleanup=path.parent)


def recompute(state: ServiceState, user: User, by: Sequence[str],
              threshold: float | None) -> JSONObject:
    """Queue a recomputation of the map of the serving index version (the job's view)."""
    app = state.application
    if index_version(app) is None:
        raise IndexNotBuilt(Path(app.settings.index_dir))
    return jobs.start(state, user, "demand_map",
                      _params(by, clamp_threshold(threshold), cities.scope(user)))


def recompute_or_running(state: ServiceState, user: User, by: Sequence[str]) -> str:
    """The id of the recompute job now queued, or of the demand-map job already running."""
    try:
        return str(recompute(state, user, by, None)["id"])
    except ActiveJobExists as exc:
        return exc.job_id


def picture_of(app: Application, by: Sequence[str], threshold: float | None,
               name: str, user: User | None = None) -> tuple[bytes, str]:
    """A picture of the saved map (heatmap.png/svg, bars.png/svg) and its media type (a
    city-scoped ``user``: its city's map).

    Raises:
        NotFound: an unknown picture, or the map is not computed yet (404).
    """
    if name not in PICTURES:
        raise NotFound(f"没有图片「{name}」")
    content = picture(city_app(app, user), by, threshold, name)
    if content is None:
        raise NotFound("需求地图尚未计算：请先打开 /demand-map 页面")
    return content, PICTURES[name]


def resolve_city(app: Application, city: str | None) -> str | None:
    """The canonical name of ``city`` (None: the settings' city).

    Raises:
        Invalid: an unknown city (422; the message lists what went wrong).
    """
    if not city:
        return None
    try:
        return app.taxonomy.city(city).name
    except (KeyError, ValueError) as exc:
        raise Invalid(f"--city 未知的城市「{city}」 ({exc})") from exc


def compute(app: Application, out: Path, *, by: Sequence[str], threshold: float | None,
            city: str | None, snapshot: bool, progress: Progress = iter) -> tuple[JSONObject,
                                                                                   list[Path]]:
    """Compute the map in the foreground (the CLI), store a snapshot, write every file.

    Returns:
        (the map, the files written).

    Raises:
        Invalid: an unknown city (422).
        MissingCJKFont: the pictures need a CJK font that is not installed.
    """
    from api.demand_export import run_demand_map, write_outputs

    dm = run_demand_map(app, by=tuple(by), threshold=threshold,
                        city=resolve_city(app, city), store=snapshot, progress=progress)
    files = write_outputs(dm, out)
    data: JSONObject = dm.to_dict()
    return data, files
