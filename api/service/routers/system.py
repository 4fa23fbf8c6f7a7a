"""Health, the caller's account, bulk import upload and record exports."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, HTTPException, Query, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.service.authz import may_export_contacts, require
from api.service.deps import get_state
from data.store.users import User

router = APIRouter(tags=["系统"])

ENTITIES = ("talents", "enterprises", "needs", "challenges", "projects")
IMPORT_SUFFIXES = (".csv", ".xlsx", ".jsonl")
EXPORT_MEDIA = {"csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "jsonl": "application/x-ndjson"}


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


@router.post("/import/{entity}", summary="批量导入（CSV / XLSX / JSONL），返回逐行错误报告")
def import_upload(entity: str, file: UploadFile = File(..., description="导入文件"),
                  user: User = Depends(require("import")),
                  state: Any = Depends(get_state)) -> dict[str, Any]:
    """Import an uploaded file; good rows land, bad rows are reported (row, field, reason)."""
    _entity(entity)
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise HTTPException(400, f"文件「{file.filename}」格式不支持：请上传 "
                            f"{'、'.join(IMPORT_SUFFIXES)} 文件")
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


@router.get("/export/{entity}", summary="导出记录（CSV / XLSX / JSONL）")
def export(entity: str, format: str = Query("csv", description="csv / xlsx / jsonl"),
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
