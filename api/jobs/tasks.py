"""The task of each job kind: ``task(ctx, params) -> result``, JSON in and out.

Each task is a few lines over the application and its workflows (the same calls the CLI
makes), with progress reported through the :class:`~api.jobs.runner.JobContext`. Files a
task writes go under :func:`jobs_dir` (``<data folder>/jobs/<job id>/``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.jobs.runner import JobContext, Task

KINDS = {"pairing": "资智结对运行", "demand_map": "需求地图计算", "event_shortlist": "对接活动名单",
         "index_update": "索引更新", "import": "批量导入"}
"""Job kinds and their Chinese names."""

SHORTLIST_FORMATS = ("xlsx", "csv", "html")


def jobs_dir(app: Any) -> Path:
    """The folder for job files: ``jobs/`` beside the index folder (``var/jobs``)."""
    return Path(app.settings.index_dir).resolve().parent / "jobs"


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the service account only."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def shortlist_file(app: Any, job_id: str, fmt: str, contacts: bool) -> Path:
    """Where an event-shortlist job keeps one of its exports."""
    suffix = "-contacts" if contacts else ""
    return jobs_dir(app) / job_id / f"shortlist{suffix}.{fmt}"


def upload_path(app: Any, name: str) -> Path:
    """Where an uploaded import file waits for its job (``name`` is a generated file name)."""
    return jobs_dir(app) / "uploads" / Path(name).name


def pairing(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """A pairing run over every open need (see :meth:`api.workflows.Workflows.pair_run`)."""
    run = ctx.workflows().pair_run(
        solver=params.get("solver", "flow"), max_load=int(params.get("max_load", 3)),
        demand=int(params.get("demand", 1)), min_score=float(params.get("min_score", 0.0)),
        k=int(params.get("k", 20)), started_by=str(params.get("started_by", "api")),
        progress=ctx.iterate("为需求检索并排序候选人", 0.0, 0.9),
        city=str(params["city"]) if params.get("city") else None)
    ctx.progress(0.95, "已求解并保存推荐", force=True)
    return {"run_id": run["run_id"], "solver": run["solver"], "objective": run["objective"],
            "partial": run["partial"], "messages": run["messages"], "pairs": len(run["pairs"]),
            "stored": run["stored"], "params": run["params"]}


def demand_map(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Recompute the demand map of the serving index version and save it with its pictures."""
    from api.demand_service import compute_and_save

    threshold = params.get("threshold")
    app = ctx.application.for_city(str(params["city"]) if params.get("city") else None)
    return compute_and_save(app, tuple(params.get("by") or ("chain", "county")),
                            None if threshold is None else float(threshold),
                            progress=ctx.iterate("为开放需求排序人才", 0.0, 0.85))


def event_shortlist(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """An event's shortlist and schedule, with its exports (with and without contacts)."""
    from api.events import find_event

    app = ctx.application
    event = find_event(app.store, str(params["event_id"]))
    folder = private_dir(jobs_dir(app) / ctx.job_id)
    exports = [(fmt, shortlist_file(app, ctx.job_id, fmt, contacts), contacts)
               for fmt in SHORTLIST_FORMATS for contacts in (False, True)]
    summary: dict[str, Any] = ctx.workflows().event_shortlist(
        event, k=int(params.get("k", 20)), m=int(params.get("m", 3)),
        meeting_cap=int(params.get("meeting_cap", 4)), exports=exports,
        strong=None if params.get("strong") is None else float(params["strong"]),
        progress=ctx.iterate("为活动需求排序人才", 0.0, 0.8),
        city=str(params["city"]) if params.get("city") else None)
    for path in folder.iterdir():
        os.chmod(path, 0o600)
    _drop_older_shortlists(app, event.id, keep=ctx.job_id)
    return summary


KEEP_SHORTLIST_VERSIONS = 10
"""Saved shortlist versions (job folders) kept per event; older ones' files are deleted."""


def _drop_older_shortlists(app: Any, event_id: str, keep: str) -> None:
    """Delete the export files of all but the newest :data:`KEEP_SHORTLIST_VERSIONS`
    shortlist versions of the same event (each version is downloaded by its id, so the
    recent ones stay), so job files do not grow without bound."""
    kept = 1
    for job in app.store.jobs(kind="event_shortlist", limit=200):
        if job.id == keep or job.params.get("event_id") != event_id or job.active:
            continue
        if job.status == "succeeded" and kept < KEEP_SHORTLIST_VERSIONS:
            kept += 1
            continue
        remove_job_files(app, job.id)


def index_update(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Update the index from the store (a full build when none exists yet)."""
    from api.demand_service import index_version

    app = ctx.application
    before = index_version(app)
    ctx.progress(0.05, "读取数据并编码变化的记录", force=True)
    if before is None:
        app.index_build(progress=False)
    else:
        app.index_update(progress=False)
    return {"mode": "build" if before is None else "update", "previous": before,
            "version": index_version(app)}


def import_upload(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Import an uploaded file (removed afterwards); the row-level report is the result."""
    path = upload_path(ctx.application, str(params["upload"]))
    try:
        ctx.progress(0.05, f"导入 {params.get('filename', path.name)}", force=True)
        name = Path(str(params.get("filename") or path.name)).name
        city = str(params["city"]) if params.get("city") else None
        report = ctx.application.for_city(city).import_file(
            str(params["entity"]), path, progress=False, started_by=params.get("started_by"),
            file_name=name, only_city=city is not None)
    finally:
        path.unlink(missing_ok=True)
    data: dict[str, Any] = report.to_dict()
    data["path"] = params.get("filename")
    return data


TASKS: dict[str, Task] = {"pairing": pairing, "demand_map": demand_map,
                          "event_shortlist": event_shortlist, "index_update": index_update,
                          "import": import_upload}
"""kind → task."""

assert set(TASKS) == set(KINDS)


def after_job(app: Any, job: Any, clear_matches: Callable[[], None]) -> None:
    """After a job ended (or was interrupted): imports and index changes invalidate cached
    matches (``clear_matches``); an import's uploaded file is removed whatever the outcome.

    Args:
        app: the application.
        job: the ended :class:`data.store.jobs.Job`.
        clear_matches: clears the (shared) match cache.
    """
    if job.kind in ("import", "index_update"):
        clear_matches()
    if job.kind == "import" and job.params.get("upload"):
        upload_path(app, str(job.params["upload"])).unlink(missing_ok=True)


def remove_job_files(app: Any, job_id: str) -> None:
    """Delete a job's folder of files (if any)."""
    shutil.rmtree(jobs_dir(app) / Path(job_id).name, ignore_errors=True)
