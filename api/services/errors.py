"""The one domain error family, and the one table that maps every domain error to an HTTP
status and a CLI exit code.

* :class:`DomainError` carries its HTTP status and its Chinese message (what to fix). The
  service layer raises its subclasses (:class:`Invalid`, :class:`NotFound`,
  :class:`Forbidden`, :class:`Conflict`, :class:`Unavailable`, :class:`EncoderMismatch` …).
* Errors of the domain packages (the store, the importer, the taxonomy, the index, the
  encoders) keep their own classes there; :data:`FOREIGN` gives each its status, so that
  ``data/``, ``embeddings/`` and ``matching/`` need not know of HTTP.
* :func:`status_of` is the lookup the HTTP handlers (:mod:`api.service.errors`) and the CLI
  (:mod:`api.cli_common`) share; :data:`EXIT_CODES` turns a status into an exit code.

Anything else (a bare ``ValueError`` from inside the code included) is not a domain error:
the service answers 500 and logs the trace, the CLI lets it raise.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import ValidationError

from data.io import ImportRefused
from data.store.errors import (
    ActiveJobExists,
    ConstraintError,
    DuplicateIdError,
    NotFoundError,
    VersionConflict,
)
from data.taxonomy import UnknownValueError
from embeddings.encoders.base import EncoderUnavailable, UnknownEncoder
from embeddings.encoders.e5_adapt import AdaptError
from embeddings.persist import IndexNotBuilt
from matching.calibration import CalibrationFailed

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid",
         429: "too_many_requests", 500: "internal", 503: "unavailable"}
"""HTTP status → the ``error`` code of an error body."""

EXIT_CODES = {400: 2, 403: 2, 404: 2, 409: 2, 413: 2, 422: 2, 503: 2}
"""HTTP status of a domain error → the CLI's exit code (anything else: 1)."""


class DomainError(Exception):
    """Base of the errors the service layer raises: an HTTP status and a Chinese message.

    Attributes:
        status: the HTTP status (a class default; an instance may override it).
        message: what went wrong and what to do, in Chinese.
        detail: optional JSON-ready details (for the error body's ``detail``).
        headers: optional HTTP headers of the answer (``Location``, ``Retry-After`` …).
    """

    status: ClassVar[int] = 500

    def __init__(self, message: str, *, detail: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.headers = headers


class BadRequest(DomainError):
    """The request (a file, a body) cannot be used as sent (400)."""

    status = 400


class Forbidden(DomainError):
    """The caller may not do this (403)."""

    status = 403


class NotFound(DomainError, LookupError):
    """A record id that the store does not hold (404).

    ``NotFound("需求", "N1")`` says 「找不到需求「N1」」; ``NotFound(message)`` says ``message``.
    """

    status = 404

    def __init__(self, what: str, id: str | None = None) -> None:
        super().__init__(what if id is None else f"找不到{what}「{id}」")


class Conflict(DomainError):
    """The request conflicts with the stored state (409)."""

    status = 409


class Invalid(DomainError):
    """A value the caller gave is not acceptable; the message names the field (422)."""

    status = 422


class Unavailable(DomainError):
    """Not available now (503); the message says what to run or when to retry."""

    status = 503


class EncoderMismatch(DomainError):
    """The serving index was built with another encoder than the configured one (409).

    The message names both encoders and the command that fixes it.
    """

    status = 409

    def __init__(self, built_with: str | None, configured: str) -> None:
        super().__init__(
            f"索引由编码器 {built_with} 建立，当前设置为 {configured}：请运行 "
            "`talentmatch index build` 重建索引（或把 TALENTMATCH_ENCODER 设回 "
            f"{built_with}）", detail={"built_with": str(built_with), "configured": configured,
                                      "command": "talentmatch index build"})


FOREIGN: tuple[tuple[type[Exception], int], ...] = (
    (ActiveJobExists, 409),
    (VersionConflict, 409),
    (DuplicateIdError, 409),
    (ConstraintError, 409),
    (NotFoundError, 404),
    (ImportRefused, 400),
    (IndexNotBuilt, 503),
    (EncoderUnavailable, 503),
    (UnknownEncoder, 422),
    (UnknownValueError, 422),
    (CalibrationFailed, 409),
    (AdaptError, 422),
    (ValidationError, 422),  # a record built from what the caller sent
)
"""(domain error of the lower packages, HTTP status); the first match wins."""

HANDLED: tuple[type[Exception], ...] = (DomainError, *(kind for kind, _ in FOREIGN))
"""Every exception type with a status (the CLI catches these)."""


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a domain error, or None when ``exc`` is not one (a bug: 500)."""
    if isinstance(exc, DomainError):
        return exc.status
    for kind, status in FOREIGN:
        if isinstance(exc, kind):
            return status
    return None


def exit_code(exc: BaseException) -> int:
    """The CLI exit code of ``exc`` (:data:`EXIT_CODES`; 1 for anything unexpected)."""
    status = status_of(exc)
    return 1 if status is None else EXIT_CODES.get(status, 1)
