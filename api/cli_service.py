"""CLI commands of the HTTP service (`serve`, `user`), registered on the main app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the service commands to ``app``."""
