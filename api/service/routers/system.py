"""The caller's account, bulk import upload (large files: a job), index update (a job) and
record exports."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, HTTPException, Query, Response, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.jobs.tasks import private_dir, upload_path
from api.service.authz import may_export_contacts, require
from api.service.deps import get_state
from api.service.routers import jobs
from api.service.schemas import JobOut
from data.store.users import User

router = APIRouter(tags=["系统"])

ENTITIES = ("talents", "enterprises", "needs", "challenges", "projects")
Entity = Literal["talents", "enterprises", "needs", "challenges", "projects"]
IMPORT_SUFFIXES = (".csv", ".xlsx", ".jsonl")
EXPORT_MEDIA = {"csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "jsonl": "application/x-ndjson"}
INLINE_IMPORT_BYTES = 256 * 1024
"""Uploads up to this size are imported during the request; larger ones become a job."""


def _entity(entity: str) -> str:
    if entity not in ENTITIES:
        raise HTTPException(404, f"未知数据类型「{entity}」；可选：{'、'.join(ENTITIES)}")
    return entity


def _upload_name(filename: str | None, suffix: str) -> str:
    """The upload's own base name when it is a plain one (messages then name the user's
    file), else ``upload<suffix>``; never a path."""
    name = Path((filename or "").replace("\\", "/")).name
    plain = 0 < len(name) <= 120 and not name.startswith(".") and name.isprintable()
    return name if plain and name.lower().endswith(suffix) else f"upload{suffix}"


@router.get("/me", summary="当前账号")
def me(user: User = Depends(require("me"))) -> dict[str, Any]:
    """The caller's account (no secrets)."""
    return user.public()


@router.post("/import/{entity}",
             summary="批量导入（CSV / XLSX / JSONL）：小文件直接返回逐行报告，大文件返回 202 与任务编号",
             responses={202: {"model": JobOut, "description": "大文件：已排入后台任务"}})
def import_upload(entity: Entity, response: Response,
                  file: UploadFile = File(..., description="导入文件"),
                  user: User = Depends(require("import")),
                  state: Any = Depends(get_state)) -> dict[str, Any]:
    """Import an uploaded file; good rows land, bad rows are reported (row, field, reason).

    Files up to :data:`INLINE_IMPORT_BYTES` are imported during the request (200 with the
    report); larger ones become an ``import`` job (202; the report is the job's result).
    """
    _entity(entity)
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise HTTPException(400, f"文件「{file.filename}」格式不支持：请上传 "
                            f"{'、'.join(IMPORT_SUFFIXES)} 文件")
    size = file.size if file.size is not None else _size(file)
    if size > INLINE_IMPORT_BYTES:
        name = f"{uuid.uuid4().hex}{suffix}"
        target = upload_path(state.application, name)
        private_dir(target.parent)
        with target.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        try:
            job = jobs.submit(state, user, "import",
                              {"entity": entity, "upload": name, "filename": file.filename,
                               "started_by": user.username})
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return jobs.accepted(response, job)
    folder = Path(tempfile.mkdtemp(prefix="tm-import-"))
    try:
        path = folder / _upload_name(file.filename, suffix)
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        report = state.application.import_file(entity, path, progress=False,
                                               started_by=user.username, file_name=path.name)
    finally:
        shutil.rmtree(folder, True)
        state.clear_cache()  # also after a stopped import: the rows before the stop landed
    data: dict[str, Any] = report.to_dict()
    data["path"] = file.filename
    return data


@router.get("/imports", summary="导入记录（文件哈希、行数、状态；未完成的导入标为 incomplete）")
def import_records(limit: int = Query(100, ge=1, le=1000, description="最多返回条数"),
                   user: User = Depends(require("import")),
                   state: Any = Depends(get_state)) -> dict[str, Any]:
    """The latest imports, newest first, and the ones that did not complete.

    An import killed half-way stays ``running``; importing the same file again completes it
    and marks the earlier record ``resumed``.
    """
    store = state.application.store
    return {"items": store.imports(limit=limit), "incomplete": store.incomplete_imports()}


def _size(file: UploadFile) -> int:
    """The upload's size in bytes (the spooled file is rewound)."""
    file.file.seek(0, 2)
    size = file.file.tell()
    file.file.seek(0)
    return size


@router.post("/index/update", status_code=202, response_model=JobOut,
             summary="更新检索索引（后台任务；尚无索引时完整建立）")
def index_update(response: Response, user: User = Depends(require("index.update")),
                 state: Any = Depends(get_state)) -> dict[str, Any]:
    """Queue an index update from the store; the serving version switches when it is done."""
    return jobs.accepted(response, jobs.submit(state, user, "index_update", {}))


@router.get("/export/{entity}", summary="导出记录（CSV / XLSX / JSONL）",
            response_class=FileResponse, responses={200: {
                "description": "导出文件",
                "content": {m.split(";")[0]: {} for m in EXPORT_MEDIA.values()}}})
def export(entity: Entity, format: Literal["csv", "xlsx", "jsonl"] = Query(
               "csv", description="csv / xlsx / jsonl"),
           contacts: bool = Query(False, description="含联系方式（仅管理员）"),
           user: User = Depends(require("export")),
           state: Any = Depends(get_state)) -> FileResponse:
    """Every record of ``entity`` as a file; contact columns only for admins who ask."""
    _entity(entity)
    if format not in EXPORT_MEDIA:
        raise HTTPException(422, f"format 须为 {'、'.join(EXPORT_MEDIA)}")
    if contacts and not may_export_contacts(user.role, "export"):
        raise HTTPException(403, "只有管理员可以导出联系方式：请去掉 contacts=true")
    folder = Path(tempfile.mkdtemp(prefix="tm-export-"))
    out = folder / f"{entity}.{format}"
    state.application.export(entity, out, include_contacts=contacts)
    return FileResponse(out, media_type=EXPORT_MEDIA[format], filename=out.name,
                        background=BackgroundTask(shutil.rmtree, folder, True))
