"""HTTP answers shared by the routers and pages: 202 with a job, file downloads."""

from __future__ import annotations

import shutil

from fastapi import Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.services.types import FileDownload, JSONObject


def accepted(response: Response, job: JSONObject) -> JSONObject:
    """Set the 202 headers (``Location`` of the job, ``Retry-After``); returns ``job``.

    Args:
        response: the response FastAPI will send.
        job: the job view (:class:`api.service.schemas.JobOut`).
    """
    response.status_code = 202
    response.headers.update(accepted_headers(job))
    return job


def accepted_headers(job: JSONObject) -> dict[str, str]:
    """The headers of a 202 answer: where the job is, and when to look again."""
    return {"Location": f"/api/v1/jobs/{job['id']}", "Retry-After": "2"}


def download(file: FileDownload, *, no_store: bool = False, inline: bool = False
             ) -> FileResponse:
    """A file download (``inline``: shown by the browser, e.g. a print view); a temporary
    folder is removed after sending."""
    background = (BackgroundTask(shutil.rmtree, file.cleanup, True)
                  if file.cleanup is not None else None)
    headers = {"Cache-Control": "no-store"} if no_store else None
    return FileResponse(file.path, media_type=file.media_type, filename=file.filename,
                        headers=headers, background=background,
                        content_disposition_type="inline" if inline else "attachment")
