"""CLI command of the demand map (`demand-map`), registered on the main app."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the demand-map command to ``app``."""
