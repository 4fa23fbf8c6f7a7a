"""Import and export of records, and the index update: an upload (imported during the
request when small, else an ``import`` job), the import journal, exports as files (contact
columns only for the roles allowed), and the ``index_update`` job."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from api.jobs.tasks import private_dir, upload_path
from api.service.authz import may_export_contacts
from api.services import cities, jobs
from api.services.errors import BadRequest, Forbidden, Invalid, NotFound
from api.services.types import FileDownload, JSONObject, User

if TYPE_CHECKING:
    from api.application import Application
    from api.service.state import ServiceState
    from data.io import ImportReport

ENTITIES = ("talents", "enterprises", "needs", "challenges", "projects")
IMPORT_SUFFIXES = (".csv", ".xlsx", ".jsonl")
EXPORT_MEDIA = {"csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "jsonl": "application/x-ndjson"}
INLINE_IMPORT_BYTES = 256 * 1024
"""Uploads up to this size are imported during the request; larger ones become a job."""


def check_entity(entity: str) -> str:
    """``entity`` when it is a stored entity (404 otherwise)."""
    if entity not in ENTITIES:
        raise NotFound(f"未知数据类型「{entity}」；可选：{'、'.join(ENTITIES)}")
    return entity


def upload_name(filename: str | None, suffix: str) -> str:
    """The upload's own base name when it is a plain one (messages then name the user's
    file), else ``upload<suffix>``; never a path."""
    name = Path((filename or "").replace("\\", "/")).name
    plain = 0 < len(name) <= 120 and not name.startswith(".") and name.isprintable()
    return name if plain and name.lower().endswith(suffix) else f"upload{suffix}"


def upload(state: ServiceState, user: User, entity: str, filename: str | None,
           content: BinaryIO, size: int) -> tuple[JSONObject, bool]:
    """Import an uploaded file; good rows land, bad rows are reported (row, field, reason).

    Files up to :data:`INLINE_IMPORT_BYTES` are imported now; larger ones become an
    ``import`` job.

    Returns:
        (the import report, False) or (the job's view, True).

    Raises:
        BadRequest: not a CSV, XLSX or JSON Lines file, or refused by the importer (400).
        ActiveJobExists: an import job is running (409).
    """
    check_entity(entity)
    suffix = Path(filename or "").suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise BadRequest(f"文件「{filename}」格式不支持：请上传 {'、'.join(IMPORT_SUFFIXES)} 文件")
    city = cities.scope(user)  # a city-scoped admin imports its city's rows only
    app = state.application.for_city(city)
    if size > INLINE_IMPORT_BYTES:
        name = f"{uuid.uuid4().hex}{suffix}"
        target = upload_path(app, name)
        private_dir(target.parent)
        with target.open("wb") as out:
            shutil.copyfileobj(content, out)
        try:
            return jobs.start(state, user, "import",
                              {"entity": entity, "upload": name, "filename": filename,
                               "started_by": user.username,
                               **({"city": city} if city else {})}), True
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    folder = Path(tempfile.mkdtemp(prefix="tm-import-"))
    try:
        path = folder / upload_name(filename, suffix)
        with path.open("wb") as out:
            shutil.copyfileobj(content, out)
        report = import_file(app, entity, path, started_by=user.username, file_name=path.name,
                             only_city=city is not None)
    finally:
        shutil.rmtree(folder, True)
        state.clear_cache()  # also after a stopped import: the rows before the stop landed
    data: JSONObject = report.to_dict()
    data["path"] = filename
    return data, False


def import_file(app: Application, entity: str, path: Path, *, progress: bool = False,
                started_by: str | None = None, file_name: str | None = None,
                only_city: bool = False) -> ImportReport:
    """Import one file into the store (recorded in the import journal); ``only_city``: rows
    of another city than ``app.settings.city`` are row errors.

    Raises:
        ImportRefused: the file cannot be imported at all (400; the message says why).
    """
    return app.import_file(entity, path, progress=progress, started_by=started_by,
                           file_name=file_name, only_city=only_city)


def journal(app: Application, user: User, limit: int) -> JSONObject:
    """The latest imports, newest first, and the ones that did not complete (a city-scoped
    caller: those its city's accounts started)."""
    store, city = app.store, cities.scope(user)
    return {"items": list(store.imports(limit=limit, city=city)),
            "incomplete": list(store.incomplete_imports(city=city))}


def export_file(app: Application, user: User, entity: str, fmt: str,
                contacts: bool) -> FileDownload:
    """Every record of ``entity`` (a city-scoped caller: of its city) as a temporary file
    (removed after sending).

    Raises:
        Invalid: an unknown format (422).
        Forbidden: contacts asked for by a role that may not export them (403).
    """
    check_entity(entity)
    if fmt not in EXPORT_MEDIA:
        raise Invalid(f"format 须为 {'、'.join(EXPORT_MEDIA)}")
    if contacts and not may_export_contacts(user.role, "export"):
        raise Forbidden("只有管理员可以导出联系方式：请去掉 contacts=true")
    folder = Path(tempfile.mkdtemp(prefix="tm-export-"))
    out = folder / f"{entity}.{fmt}"
    export(app, entity, out, contacts=contacts, city=cities.scope(user))
    return FileDownload(out, EXPORT_MEDIA[fmt], out.name, cleanup=folder)


def export(app: Application, entity: str, out: Path, *, contacts: bool = False,
           city: str | None = None) -> int:
    """Export every ``entity`` record (of ``city`` only, when given) to ``out`` (format from
    the extension); the count."""
    return app.export(entity, out, include_contacts=contacts, city=city)


def start_index_update(state: ServiceState, user: User) -> JSONObject:
    """Queue an index update from the store; the serving version switches when it is done."""
    return jobs.start(state, user, "index_update", {})
