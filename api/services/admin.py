"""Library administration (the CLI): the database, the sample, statistics, the search index,
the ranker, and the offline evaluation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from api.services.types import JSONObject

if TYPE_CHECKING:
    from api.application import Application


def init(app: Application) -> str:
    """Create or upgrade the database schema; returns the database URL."""
    return app.init()


def sample(app: Application, out: Path, *, talents: int, needs: int, seed: int) -> JSONObject:
    """Generate the deterministic sample into ``out``; what was written."""
    info: JSONObject = app.sample(out, talents=talents, needs=needs, seed=seed)
    return info


def sample_files(app: Application, folder: Path) -> Iterator[tuple[str, Path]]:
    """The import files of a sample folder, in import order (missing ones skipped)."""
    return app.sample_files(folder)


def stats(app: Application) -> dict[str, int]:
    """Counts per entity."""
    return app.stats()


def incomplete_imports(app: Application) -> list[JSONObject]:
    """Imports that did not complete (killed half-way or stopped by an error)."""
    return list(app.incomplete_imports())


def index_built(app: Application) -> bool:
    """Whether an index version is serving."""
    from embeddings.persist import VersionedFolder

    return VersionedFolder(Path(app.settings.index_dir)).current_name() is not None


def index_build(app: Application, *, progress: bool = True) -> JSONObject:
    """A full build of the index from the store; the new manifest."""
    manifest: JSONObject = app.index_build(progress=progress)
    return manifest


def index_update(app: Application, *, progress: bool = True) -> JSONObject:
    """An incremental update of the index (IndexNotBuilt, 503, before the first build)."""
    manifest: JSONObject = app.index_update(progress=progress)
    return manifest


def index_refresh(app: Application, *, progress: bool = True) -> JSONObject:
    """An update when an index is serving, else a full build."""
    return index_update(app, progress=progress) if index_built(app) else \
        index_build(app, progress=progress)


def index_info(app: Application) -> JSONObject:
    """The serving version's manifest and the list of versions."""
    info: JSONObject = app.index_info()
    return info


def ranker_train(app: Application, min_decisions: int | None = None) -> JSONObject:
    """Train a re-ranker from review decisions (or say why not)."""
    info: JSONObject = app.ranker_train(min_decisions)
    return info


def ranker_train_self_supervised(app: Application, *, limit: int, library_max: int, seed: int,
                                 learn_weights: bool = False, keep_order: bool = False
                                 ) -> JSONObject:
    """Train the calibrated scorer from the library itself.

    Raises:
        Invalid: both ``learn_weights`` and ``keep_order`` (422).
    """
    from api.services.errors import Invalid

    if learn_weights and keep_order:
        raise Invalid("--learn-weights 与 --keep-order 只能选一个 "
                      "(choose one: every feature, or the fused order kept)")
    features = "all" if learn_weights else "keep-order" if keep_order else "default"
    info: JSONObject = app.ranker_train_self_supervised(
        limit=limit, library_max=library_max, seed=seed, features=features)
    return info


def encoder_adapt(app: Application, *, talents_file: Path | None, out: Path | None, limit: int,
                  seed: int, epochs: float, layers: int) -> JSONObject:
    """Train the e5-small domain adapter from the library's pseudo-needs."""
    info: JSONObject = app.encoder_adapt(talents_file=talents_file, out=out, limit=limit,
                                         seed=seed, epochs=epochs, layers=layers)
    return info


def ranker_info(app: Application) -> JSONObject:
    """Which scorer is in use, and the current ranker version's metadata."""
    info: JSONObject = app.ranker_info()
    return info


def evaluate(app: Application, needs: Path, talents: Path, qrels: Path, methods: list[str], *,
             encoder: str | None, as_json: bool, cache_dir: Path | None,
             no_cache: bool) -> None:
    """Rank every talent for every need on exchange-format files and print the metrics.

    Raises:
        Invalid: an unknown method or unusable files (422; the message says which).
    """
    from api.services.errors import Invalid
    from evaluation.evaluator import run_evaluation

    settings = app.settings
    cache = None if no_cache else (cache_dir or Path(settings.index_dir) / "cache")
    try:
        run_evaluation(needs, talents, qrels, methods, encoder or settings.encoder, as_json,
                       cache_dir=cache)
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
