"""A prepared service environment: sample data, index, a pairing run and demo accounts.

Used by the tests, the benchmark and ``make run``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.application import Application
from api.settings import Settings


def prepare(root: Path, *, talents: int = 120, needs: int = 30, seed: int = 42,
            pair: bool = True, encoder: str | None = None) -> Application:
    """Generate the sample into ``root``, load it, build the index and propose a pairing run.

    Args:
        root: an empty folder (database, sample files and index go there).
        talents: sample talents.
        needs: sample needs.
        seed: sample seed.
        pair: propose a pairing run (its suggestions fill the review queue).
        encoder: encoder name (default: the settings' default).

    Returns:
        The application over ``root``.
    """
    extra: dict[str, Any] = {"encoder": encoder} if encoder else {}
    settings = Settings(database_url=f"sqlite:///{root / 'tm.db'}", index_dir=root / "index",
                        **extra)
    application = Application(settings)
    application.sample(root / "sample", talents=talents, needs=needs, seed=seed)
    for entity, path in application.sample_files(root / "sample"):
        application.import_file(entity, path, progress=False)
    application.index_build(progress=False)
    if pair:
        application.workflows().pair_run(started_by="demo")
    return application
