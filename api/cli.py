"""The ``talentmatch`` command line (typer). Every command has ``--help``; docs/cli.md mirrors it.

Commands are thin: they parse options, call :class:`api.application.Application` and print.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.application import Application
from api.settings import get_settings

app = typer.Typer(
    help="talentmatch: 人才与企业需求匹配 (平顶山归根工程 / 南阳诸葛英才计划).",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)

DEFAULT_SAMPLE = Path("var/sample")


class Entity(StrEnum):
    """Importable entities."""

    talents = "talents"
    enterprises = "enterprises"
    needs = "needs"
    challenges = "challenges"
    projects = "projects"


def _app() -> Application:
    return Application(get_settings())


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]错误[/]: {message}")
    raise typer.Exit(code)


@app.command()
def init() -> None:
    """Create or upgrade the database schema (runs the migrations)."""
    url = _app().init()
    console.print(f"数据库已就绪: {url}")


@app.command("import")
def import_(
    entity: Annotated[Entity, typer.Argument(help="what the file holds")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV / XLSX / JSONL")],
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Import a file: bad rows are reported (row, field, reason); good rows land."""
    from data.io import ImportRefused

    try:
        report = _app().import_file(entity.value, file, progress=not (quiet or as_json))
    except ImportRefused as exc:
        _fail(str(exc))
        return
    if as_json:
        _print_json(report.to_dict())
    else:
        report.print(console)
    if report.rejected:
        raise typer.Exit(1)


@app.command()
def export(
    entity: Annotated[Entity, typer.Argument(help="what to export")],
    out: Annotated[Path, typer.Argument(help="target file: .csv (UTF-8 BOM), .xlsx or .jsonl")],
    contacts: Annotated[bool, typer.Option("--contacts", help="include contact columns")] = False,
) -> None:
    """Export records with Chinese headers; contact fields only with --contacts."""
    n = _app().export(entity.value, out, include_contacts=contacts)
    console.print(f"已导出 {n} 条 {entity.value} → {out}")


@app.command()
def sample(
    talents: Annotated[int, typer.Option(help="number of talents")] = 2000,
    needs: Annotated[int, typer.Option(help="number of needs (≥ 40 challenges at 300)")] = 300,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same files)")] = 42,
    out: Annotated[Path, typer.Option(help="output folder")] = DEFAULT_SAMPLE,
    load: Annotated[bool, typer.Option("--load", help="also import into the store")] = False,
) -> None:
    """Generate the deterministic sample: import files, exchange format and hidden qrels."""
    application = _app()
    info = application.sample(out, talents=talents, needs=needs, seed=seed)
    console.print(f"样例数据已生成: {info['out']} (人才 {talents}, 需求 {needs}, seed {seed})")
    if load:
        _import_folder(application, out)


def _import_folder(application: Application, folder: Path) -> None:
    for entity, path in application.sample_files(folder):
        report = application.import_file(entity, path)
        report.print(console)


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Library statistics: counts of talents, enterprises, needs, challenges, projects."""
    counts = _app().stats()
    if as_json:
        _print_json(counts)
        return
    _print_stats(counts)


LABELS = {"talents": "人才", "enterprises": "企业", "needs": "需求", "challenges": "揭榜挂帅",
          "projects": "归根项目"}


def _print_stats(counts: dict[str, int]) -> None:
    table = Table(title="人才与需求库统计")
    table.add_column("类别")
    table.add_column("数量", justify="right")
    for key, value in counts.items():
        table.add_row(f"{LABELS.get(key, key)} ({key})", str(value))
    console.print(table)


@app.command()
def demo(
    sample_dir: Annotated[Path, typer.Option(help="sample folder")] = DEFAULT_SAMPLE,
) -> None:
    """The main job on the embedded default: generate the sample if absent, import it, print stats."""
    application = _app()
    if not (sample_dir / "talents.csv").exists():
        application.sample(sample_dir, talents=2000, needs=300, seed=42)
        console.print(f"样例数据已生成: {sample_dir}")
    console.print(f"数据库: {application.init()}")
    _import_folder(application, sample_dir)
    _print_stats(application.stats())


index_app = typer.Typer(help="Build, update and inspect the search index.", no_args_is_help=True)
app.add_typer(index_app, name="index")


@index_app.command("build")
def index_build(
    as_json: Annotated[bool, typer.Option("--json", help="print the manifest as JSON")] = False,
) -> None:
    """Full build from the store into a new version, switched to atomically."""
    manifest = _app().index_build(progress=not as_json)
    _print_manifest(manifest, as_json)


@index_app.command("update")
def index_update(
    as_json: Annotated[bool, typer.Option("--json", help="print the manifest as JSON")] = False,
) -> None:
    """Incremental update: encode only records added or changed since the last build."""
    from embeddings.persist import IndexNotBuilt

    try:
        manifest = _app().index_update(progress=not as_json)
    except IndexNotBuilt as exc:
        _fail(str(exc))
        return
    _print_manifest(manifest, as_json)


@index_app.command("info")
def index_info(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The serving version: encoder, dims, counts, data hash, config, build time."""
    from embeddings.persist import IndexNotBuilt

    try:
        info = _app().index_info()
    except IndexNotBuilt as exc:
        _fail(str(exc))
        return
    _print_manifest(info, as_json)


def _print_manifest(manifest: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _print_json(manifest)
        return
    table = Table(title=f"索引版本 {manifest.get('version')}")
    table.add_column("项")
    table.add_column("值")
    for key in ("version", "built_at", "mode", "encoder", "dims", "counts", "data_hash",
                "stats", "versions", "index_dir"):
        if key in manifest:
            table.add_row(key, json.dumps(manifest[key], ensure_ascii=False, default=str))
    console.print(table)


@app.command()
def evaluate(
    needs: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="needs.jsonl")],
    talents: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="talents.jsonl")],
    qrels: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="qrels.tsv")],
    methods: Annotated[str, typer.Option(help="comma-separated: bm25,dense,hybrid")] = "bm25,dense,hybrid",
    encoder: Annotated[str | None, typer.Option(help="encoder name (default: settings)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Rank every talent for every need on exchange-format files; print nDCG, recall, MRR, MAP."""
    from evaluation.evaluator import run_evaluation

    settings = get_settings()
    names = [m.strip() for m in methods.split(",") if m.strip()]
    try:
        run_evaluation(needs, talents, qrels, names, encoder or settings.encoder, as_json)
    except ValueError as exc:
        _fail(str(exc))


if __name__ == "__main__":  # pragma: no cover
    app()
