"""What every ``talentmatch`` command module shares: the consoles, the application, JSON
output, progress bars, and the one way a domain error ends a command.

A domain error (:data:`api.services.errors.HANDLED`) prints its Chinese message and exits
with the code of its status (:data:`api.services.errors.EXIT_CODES`, the table the HTTP
service uses for its statuses); anything else is a bug and raises.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import NoReturn, TypeVar

import typer
from rich.console import Console

from api.application import Application
from api.services.errors import HANDLED, exit_code
from api.services.types import Progress
from api.settings import get_settings
from data.taxonomy import entity_labels

T = TypeVar("T")

console = Console()
err = Console(stderr=True)

LABELS = {**entity_labels("title"), "challenges": "揭榜挂帅"}


class Entity(StrEnum):
    """Importable entities."""

    talents = "talents"
    enterprises = "enterprises"
    needs = "needs"
    challenges = "challenges"
    projects = "projects"


def application() -> Application:
    """The application over the settings of the environment."""
    return Application(get_settings())


def print_json(obj: object) -> None:
    """One line of JSON on stdout (non-ASCII kept)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``错误: message`` on stderr and exit with ``code``."""
    err.print(f"[bold red]错误[/]: {message}")
    raise typer.Exit(code)


def call(fn: Callable[[], T]) -> T:
    """Run ``fn``; a domain error becomes its message and its exit code."""
    try:
        return fn()
    except HANDLED as exc:
        fail(str(exc), exit_code(exc))


def progress(label: str) -> Progress:
    """A progress wrapper for long per-need loops (shown on a terminal only)."""
    from rich.progress import track

    def wrap(items: Iterable[object]) -> Iterable[object]:
        items = list(items)
        if len(items) < 50 or not err.is_terminal:
            return items
        return track(items, description=label, console=err)

    return wrap
