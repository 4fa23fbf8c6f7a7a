"""The caller's account, bulk import upload (large files: a job), the import journal, index
update (a job) and record exports (thin over :mod:`api.services.transfer`)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from api.service.authz import require
from api.service.deps import StateDep, User
from api.service.http import accepted, accepted_headers, download
from api.service.schemas import ImportJournal, ImportReportOut, JobOut, UserOut
from api.services import accounts, transfer
from api.services.types import JSONObject

router = APIRouter(tags=["系统"])

Entity = Literal["talents", "enterprises", "needs", "challenges", "projects"]
Importer = Annotated[User, Depends(require("import"))]


@router.get("/me", summary="当前账号", response_model=UserOut)
def me(user: Annotated[User, Depends(require("me"))]) -> JSONObject:
    """The caller's account (no secrets)."""
    return accounts.me(user)


@router.post("/import/{entity}",
             summary="批量导入（CSV / XLSX / JSONL）：小文件直接返回逐行报告，大文件返回 202 与任务编号",
             response_model=ImportReportOut, response_model_exclude_unset=True,
             responses={202: {"model": JobOut, "description": "大文件：已排入后台任务"}})
def import_upload(entity: Entity, response: Response, user: Importer, state: StateDep,
                  file: UploadFile = File(..., description="导入文件")) -> JSONObject | Response:
    """Import an uploaded file; good rows land, bad rows are reported (row, field, reason).

    Small files are imported during the request (200 with the report); larger ones become
    an ``import`` job (202; the report is the job's result).
    """
    size = file.size if file.size is not None else _size(file)
    answer, queued = transfer.upload(state, user, entity, file.filename, file.file, size)
    if not queued:
        return answer
    return JSONResponse(answer, 202, headers=accepted_headers(answer))


@router.get("/imports", summary="导入记录（文件哈希、行数、状态；未完成的导入标为 incomplete）",
            response_model=ImportJournal)
def import_records(user: Importer, state: StateDep,
                   limit: int = Query(100, ge=1, le=1000, description="最多返回条数")
                   ) -> JSONObject:
    """The latest imports, newest first, and the ones that did not complete.

    An import killed half-way stays ``running``; importing the same file again completes it
    and marks the earlier record ``resumed``.
    """
    return transfer.journal(state.application, user, limit)


def _size(file: UploadFile) -> int:
    """The upload's size in bytes (the spooled file is rewound)."""
    file.file.seek(0, 2)
    size = file.file.tell()
    file.file.seek(0)
    return size


@router.post("/index/update", status_code=202, response_model=JobOut,
             summary="更新检索索引（后台任务；尚无索引时完整建立）")
def index_update(response: Response,
                 user: Annotated[User, Depends(require("index.update"))],
                 state: StateDep) -> JSONObject:
    """Queue an index update from the store; the serving version switches when it is done."""
    return accepted(response, transfer.start_index_update(state, user))


@router.get("/export/{entity}", summary="导出记录（CSV / XLSX / JSONL）",
            response_class=FileResponse, response_model=None, responses={200: {
                "description": "导出文件",
                "content": {m.split(";")[0]: {} for m in transfer.EXPORT_MEDIA.values()}}})
def export(entity: Entity, user: Annotated[User, Depends(require("export"))],
           state: StateDep,
           format: Literal["csv", "xlsx", "jsonl"] = Query("csv", description="csv / xlsx / jsonl"),
           contacts: bool = Query(False, description="含联系方式（仅管理员）")) -> FileResponse:
    """Every record of ``entity`` as a file; contact columns only for admins who ask."""
    return download(transfer.export_file(state.application, user, entity, format, contacts))
