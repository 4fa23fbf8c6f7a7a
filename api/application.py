"""The application object: one place the CLI (and later the HTTP API) calls into.

It wires settings to the store, the taxonomy, import/export and the sample generator. It
holds no algorithm of its own; each method is a few lines over the domain packages.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.settings import Settings
from api.typed import each, record_ids
from data.records import Need, Talent
from data.taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:
    from api.workflows import Workflows
    from data.io import ImportReport
    from data.store import Store
    from embeddings.encoders import Encoder
    from embeddings.index import Doc, IndexBuilder
    from matching.ranker import RankerModel

IMPORT_ORDER = ("enterprises", "talents", "needs", "challenges", "projects")
"""Entities in the order a full import loads them (owners before what refers to them)."""


@dataclass
class Application:
    """Settings-bound facade over the store, taxonomy, import/export and sample data."""

    settings: Settings
    _store: Store | None = field(default=None, init=False, repr=False)

    @property
    def taxonomy(self) -> Taxonomy:
        """The taxonomy from settings (the bundled files by default)."""
        folder = self.settings.taxonomy_dir
        return load_taxonomy(str(folder) if folder else None)

    @property
    def store(self) -> Store:
        """The store, opened (and migrated) on first use."""
        if self._store is None:
            from data.store import Store

            self._store = Store.open(self.settings.database_url)
        return self._store

    def init(self) -> str:
        """Create or upgrade the database schema; returns the database URL."""
        _ = self.store
        return self.settings.database_url

    def import_file(self, entity: str, path: Path, *, progress: bool = True,
                    started_by: str | None = None, file_name: str | None = None,
                    only_city: bool = False) -> ImportReport:
        """Import one file of ``entity`` records into the store, recording the import.

        Args:
            entity: talents, enterprises, needs, challenges or projects.
            path: a CSV, XLSX or JSON Lines file.
            progress: show a progress bar on long files.
            started_by: who started it (recorded with the import).
            file_name: the name to record (an upload's original name).
            only_city: rows naming another city than ``settings.city``, and rows whose id
                is another city's record, are row errors (a city-scoped account's import,
                through :meth:`for_city`).

        Returns:
            The import report (counts and row errors).
        """
        from data.io import ImportLimits, import_file

        limits = ImportLimits.of(self.settings.import_max_rows, self.settings.import_max_xlsx_mb)
        return import_file(path, entity, self.store, taxonomy=self.taxonomy,
                           city=self.settings.city, progress=progress, limits=limits,
                           journal=self.store, started_by=started_by, file_name=file_name,
                           only_city=only_city,
                           refuse=self._other_cities if only_city else None)

    def _other_cities(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """Of ``ids``, those already held by another city's record → why the row is refused
        (a city-scoped import never overwrites or moves another city's record)."""
        city = self.settings.city
        return {i: f"编号已被其他城市的记录使用：只能导入「{city}」的数据" for i, r in
                self.store.get_many(entity, ids).items() if getattr(r, "city", city) != city}

    def incomplete_imports(self) -> list[dict[str, Any]]:
        """Imports that did not complete (killed half-way or stopped by an error)."""
        return list(self.store.incomplete_imports())

    def export(self, entity: str, path: Path, *, include_contacts: bool = False,
               city: str | None = None) -> int:
        """Export every ``entity`` record to ``path`` (format from the extension).

        Args:
            entity: the entity to export.
            path: target file (.csv, .xlsx or .jsonl).
            include_contacts: add contact columns (the caller checks permission).
            city: only this programme city's records (filtered in SQL); None: all.

        Returns:
            The number of records written.
        """
        from data.io import export_records

        records = list(self.store.iter_where(entity, {"city": city}) if city
                       else self.store.iter(entity))
        contacts = None
        if include_contacts:
            contacts = {i: self.store.get_contact(entity, i) for i in record_ids(records)}
        export_records(records, entity, path, include_contacts=include_contacts,
                       contacts=contacts)
        return len(records)

    def stats(self) -> dict[str, int]:
        """Counts per entity: talents, enterprises, needs, challenges, projects."""
        return dict(self.store.counts())

    def sample(self, out: Path, *, talents: int, needs: int, seed: int) -> dict[str, Any]:
        """Generate the deterministic sample into ``out``; returns what was written."""
        from data.sample import generate, write_sample

        data = generate(n_talents=talents, n_needs=needs, seed=seed, city=self.settings.city)
        write_sample(data, out)
        return {"out": str(out), "talents": talents, "needs": needs, "seed": seed}

    def sample_files(self, folder: Path) -> Iterator[tuple[str, Path]]:
        """The import files of a sample folder, in import order (missing ones skipped)."""
        for entity in IMPORT_ORDER:
            path = folder / f"{entity}.csv"
            if path.exists():
                yield entity, path

    # -- index ------------------------------------------------------------------------------
    def encoder(self) -> Encoder:
        """The configured encoder, behind the persistent embedding cache."""
        from embeddings.encoders import make_encoder

        cache_dir = Path(self.settings.index_dir) / "cache"
        return make_encoder(self.settings.encoder, threads=self.settings.encoder_threads,
                            cache_dir=cache_dir)

    def index_builder(self) -> IndexBuilder:
        """An index builder over the index folder, encoder and taxonomy tokenizer."""
        from embeddings.index import IndexBuilder
        from embeddings.tokenize import Tokenizer
        from embeddings.tokens import TokenCache

        tokenizer = Tokenizer(self.taxonomy.all_terms())
        cache = TokenCache(Path(self.settings.index_dir) / "cache")
        return IndexBuilder(Path(self.settings.index_dir), self.encoder(), tokenizer,
                            token_cache=cache)

    def index_docs(self) -> dict[str, list[Doc]]:
        """Documents to index, rendered from the store: talents, and needs with challenges."""
        from embeddings.index import Doc
        from embeddings.render import need_text, talent_texts

        talents = []
        for t in each(Talent, self.store.iter("talents")):
            profile, items = talent_texts(t)
            talents.append(Doc(t.id, profile, tuple(items)))
        needs = [Doc(n.id, need_text(n)) for entity in ("needs", "challenges")
                 for n in each(Need, self.store.iter(entity))]
        return {"talents": talents, "needs": needs}

    def index_build(self, *, progress: bool = True) -> dict[str, Any]:
        """Full build of the index from the store; returns the new manifest."""
        builder = self.index_builder()
        docs: dict[str, Iterable[Doc]] = dict(self.index_docs())
        return dict(builder.build(docs, progress=progress))

    def index_update(self, *, progress: bool = True) -> dict[str, Any]:
        """Incremental update: re-encode only what changed in the store since the last build."""
        builder = self.index_builder()
        builder.folder.current()  # raises IndexNotBuilt before the store is read
        return dict(builder.sync(self.index_docs(), progress=progress))

    def index_info(self) -> dict[str, Any]:
        """The serving version's manifest and the list of versions."""
        from embeddings.persist import VersionedFolder

        folder = VersionedFolder(Path(self.settings.index_dir))
        return {**folder.manifest(), "versions": folder.list_versions(),
                "index_dir": str(self.settings.index_dir)}

    # -- ranking and workflows --------------------------------------------------------------
    @property
    def ranker_dir(self) -> Path:
        """Where trained ranker versions live (beside the index)."""
        return Path(self.settings.index_dir) / "ranker"

    def decision_examples(self) -> list[tuple[dict[str, float], int]]:
        """(features, label) of every approved (1) or rejected (0) suggestion."""
        labels = {"approved": 1, "rejected": 0}
        out = []
        for status, label in labels.items():
            for s in self.store.suggestions(status=status):
                out.append((dict(s.features), label))
        return out

    def ranker(self) -> RankerModel | None:
        """The current trained ranker when enough decisions back it, else None (fused)."""
        from matching.ranker import RankerModel, versions

        if not versions(self.ranker_dir):
            return None
        return RankerModel.load(self.ranker_dir)

    def ranker_train(self, min_decisions: int | None = None) -> dict[str, Any]:
        """Train a new ranker version from review decisions (or say why not)."""
        from matching.ranker import MIN_DECISIONS, scorer_info, train_ranker

        minimum = MIN_DECISIONS if min_decisions is None else min_decisions
        examples = self.decision_examples()
        model = train_ranker(examples, min_decisions=minimum)
        if model is not None:
            model.save(self.ranker_dir)
        return scorer_info(model if model is not None else self.ranker(), len(examples), minimum)

    def ranker_train_self_supervised(self, limit: int = 2000, library_max: int = 20000,
                                     seed: int = 0, progress: bool = True,
                                     features: str = "default") -> dict[str, Any]:
        """Train and save the calibrated scorer from the library itself (#10).

        Pseudo-needs are the held-out most recent items of up to ``limit`` talents; the
        training library is those talents (reduced) plus a seeded draw of others, at most
        ``library_max``. Review decisions are added on top. ``features`` names the feature
        set (``matching.calibration.FEATURE_SETS``: ``default`` re-weighs the signals,
        ``keep-order`` keeps the fused order, ``all`` weighs word overlap too). See
        matching/calibration.py.
        """
        import random

        from embeddings.config import RetrievalConfig
        from embeddings.hybrid import library_search
        from embeddings.render import need_text, talent_texts
        from embeddings.tokenize import Tokenizer
        from matching.calibration import (
            FEATURE_SETS,
            train_self_supervised,
        )
        from matching.matcher import Matcher
        from matching.ranker import scorer_info
        from matching.selfsup import hold_out
        from matching.tables import MatchingTables
        from matching.training_sources import matcher_candidates, text_search

        talents = each(Talent, self.store.iter("talents"))
        if len(talents) > library_max:
            rng = random.Random(seed)
            usable = [t for t in talents if hold_out(t) is not None]
            chosen = {t.id for t in rng.sample(usable, min(limit, len(usable), library_max))}
            rest = [t for t in talents if t.id not in chosen]
            chosen |= {t.id for t in rng.sample(rest, library_max - len(chosen))}
            talents = [t for t in talents if t.id in chosen]
        tokenizer = Tokenizer(self.taxonomy.all_terms())
        build = library_search(self.encoder(), tokenizer, RetrievalConfig(), 200)
        fused = Matcher(MatchingTables.from_taxonomy(self.taxonomy),
                        weights=self.settings.ranking_weights)
        with _bar(progress, "自监督训练") as tick:
            model = train_self_supervised(
                talents, text_search(build, talent_texts, need_text), matcher_candidates(fused),
                limit=limit, seed=seed, decisions=self.decision_examples(), progress=tick,
                names=FEATURE_SETS[features])
        model.save(self.ranker_dir)
        return scorer_info(model, len(self.decision_examples()))

    def encoder_adapt(self, *, talents_file: Path | None = None, out: Path | None = None,
                      limit: int = 1500, seed: int = 0, epochs: float = 3.0, layers: int = 12,
                      progress: bool = True) -> dict[str, Any]:
        """Train the e5-small domain adapter from the library's pseudo-needs (#10, item 2).

        The library is the store's talents, or an exchange ``talents.jsonl`` (evaluation
        data: only its talents are read). The adapter is saved in ``out`` (default
        ``<data folder>/adapters``) when it ranks held-out pseudo-needs better; see
        api/encoder_adapt.py.
        """
        from api.encoder_adapt import adapt, exchange_talents

        talents = (exchange_talents(talents_file) if talents_file is not None
                   else each(Talent, self.store.iter("talents")))
        folder = out if out is not None else self.settings.data_folder / "adapters"
        with _bar(progress, "编码器领域适配") as tick:
            return adapt(talents, folder, limit=limit, seed=seed, epochs=epochs, layers=layers,
                         threads=self.settings.encoder_threads,
                         progress=lambda done, total, _loss: tick(done, total))

    def ranker_info(self) -> dict[str, Any]:
        """Which scorer is in use, and the current ranker version's metadata."""
        from matching.ranker import scorer_info

        return scorer_info(self.ranker(), len(self.decision_examples()))

    def workflows(self) -> Workflows:
        """The matching workflows (match, leads, pairing runs, event shortlists)."""
        from api.workflows import Workflows

        return Workflows(self)

    def for_city(self, city: str | None) -> Application:
        """This application with ``city`` as its programme city — the same store, index and
        other settings — for what reads ``settings.city`` (the demand map of a city-scoped
        caller); itself when ``city`` is None or already the settings' city."""
        if not city or city == self.settings.city:
            return self
        clone = copy.copy(self)
        clone.settings = self.settings.model_copy(update={"city": city})
        return clone


@contextmanager
def _bar(enabled: bool, label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr; yields ``tick(done, total)``."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True, disable=not enabled) as bar:
        task = bar.add_task(label, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield tick
