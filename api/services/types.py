"""Types of the service layer's signatures: JSON values, the caller, file downloads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from data.store.users import User

__all__ = ["JSON", "FileDownload", "JSONObject", "Progress", "User"]

JSON: TypeAlias = "str | int | float | bool | list[JSON] | dict[str, JSON] | None"
"""A JSON value."""

JSONObject: TypeAlias = dict[str, "JSON"]
"""A JSON object (what most use cases answer)."""

Progress: TypeAlias = Callable[[Iterable[object]], Iterable[object]]
"""Wraps a long per-item loop (a progress bar, a job's progress report)."""


@dataclass(frozen=True)
class FileDownload:
    """A file to hand to the caller.

    Attributes:
        path: the file.
        media_type: its media type.
        filename: the name the caller should save it under.
        cleanup: a temporary folder to remove once the file is sent (None: keep).
    """

    path: Path
    media_type: str
    filename: str
    cleanup: Path | None = None
