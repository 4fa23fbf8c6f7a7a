"""CLI commands of the search index (`index build|update|info`), the ranker
(`ranker train|info`), the offline evaluation (`evaluate`) and the benchmarks (`bench`),
registered on the main app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli_common import application, call, console, print_json
from api.services import admin
from api.services.types import JSONObject

index_app = typer.Typer(help="Build, update and inspect the search index.", no_args_is_help=True)
ranker_app = typer.Typer(help="The learned ranker trained from review decisions.",
                         no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks printing JSON.", no_args_is_help=True)
encoder_app = typer.Typer(help="The dense encoder's domain adapter.", no_args_is_help=True)


@index_app.command("build")
def index_build(
    as_json: Annotated[bool, typer.Option("--json", help="print the manifest as JSON")] = False,
) -> None:
    """Full build from the store into a new version, switched to atomically."""
    _print_manifest(call(lambda: admin.index_build(application(), progress=not as_json)),
                    as_json)


@index_app.command("update")
def index_update(
    as_json: Annotated[bool, typer.Option("--json", help="print the manifest as JSON")] = False,
) -> None:
    """Incremental update: encode only records added or changed since the last build."""
    _print_manifest(call(lambda: admin.index_update(application(), progress=not as_json)),
                    as_json)


@index_app.command("info")
def index_info(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The serving version: encoder, dims, counts, data hash, config, build time."""
    _print_manifest(call(lambda: admin.index_info(application())), as_json)


def _print_manifest(manifest: JSONObject, as_json: bool) -> None:
    if as_json:
        print_json(manifest)
        return
    table = Table(title=f"索引版本 {manifest.get('version')}")
    table.add_column("项")
    table.add_column("值")
    for key in ("version", "built_at", "mode", "encoder", "dims", "counts", "data_hash",
                "stats", "versions", "index_dir"):
        if key in manifest:
            table.add_row(key, json.dumps(manifest[key], ensure_ascii=False, default=str))
    console.print(table)


def evaluate(
    needs: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="needs.jsonl")],
    talents: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="talents.jsonl")],
    qrels: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="qrels.tsv")],
    methods: Annotated[str, typer.Option(
        help="comma-separated: bm25,dense,hybrid,ranked,talentmatch (talentmatch = the "
             "service's own scorer)")] = "bm25,dense,hybrid,talentmatch",
    encoder: Annotated[str | None, typer.Option(help="encoder name (default: settings)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    cache_dir: Annotated[Path | None, typer.Option(
        help="embedding cache folder (default: <index dir>/cache)")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="encode without a cache")] = False,
) -> None:
    """Rank every talent for every need on exchange-format files; print nDCG, recall, MRR,
    MAP, and the calibration error (ECE) of the calibrated production scorer."""
    names = [m.strip() for m in methods.split(",") if m.strip()]
    call(lambda: admin.evaluate(application(), needs, talents, qrels, names, encoder=encoder,
                                as_json=as_json, cache_dir=cache_dir, no_cache=no_cache))


@ranker_app.command("train")
def ranker_train(
    min_decisions: Annotated[int | None, typer.Option(help="fewest decisions to train on")] = None,
    self_supervised: Annotated[bool, typer.Option(
        "--self-supervised",
        help="train the calibrated scorer from the library itself (pseudo-needs from "
             "held-out items), review decisions added on top")] = False,
    limit: Annotated[int, typer.Option(help="pseudo-needs drawn (--self-supervised)")] = 2000,
    library_max: Annotated[int, typer.Option(
        help="talents in the training library at most (--self-supervised)")] = 20000,
    seed: Annotated[int, typer.Option(help="seed of the pseudo-need draw")] = 0,
    learn_weights: Annotated[bool, typer.Option(
        "--learn-weights",
        help="let the model weigh every feature, raw word overlap too (default: the fused, "
             "retrieval and dense signals; see docs/quality.md)")] = False,
    keep_order: Annotated[bool, typer.Option(
        "--keep-order",
        help="keep the fused order within a need and learn only its scale (the default "
             "before 2026-12-07)")] = False,
) -> None:
    """Train a new ranker version: the calibrated scorer from the library
    (--self-supervised, run at each 3-month refresh), or the re-ranker from approved vs
    rejected suggestions (or say why not)."""
    if self_supervised:
        print_json(call(lambda: admin.ranker_train_self_supervised(
            application(), limit=limit, library_max=library_max, seed=seed,
            learn_weights=learn_weights, keep_order=keep_order)))
        return
    print_json(call(lambda: admin.ranker_train(application(), min_decisions)))


@ranker_app.command("info")
def ranker_info() -> None:
    """Which scorer is in use (fused weights or a ranker version) and why."""
    print_json(call(lambda: admin.ranker_info(application())))


@encoder_app.command("adapt")
def encoder_adapt(
    talents: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False,
        help="an exchange talents.jsonl to learn from instead of the store (evaluation data: "
             "only its talents are read)")] = None,
    out: Annotated[Path | None, typer.Option(
        file_okay=False, help="folder for the adapter (default: <data folder>/adapters)")] = None,
    limit: Annotated[int, typer.Option(help="pseudo-needs drawn at most")] = 1500,
    seed: Annotated[int, typer.Option(help="seed of the draw, split and batch order")] = 0,
    epochs: Annotated[float, typer.Option(help="passes over the training pairs")] = 3.0,
    layers: Annotated[int, typer.Option(help="last encoder layers trained (1–12)")] = 12,
) -> None:
    """Fine-tune e5-small's last layers on the library's pseudo-needs (held-out items) and
    save the adapter when it ranks held-out pseudo-needs better; prints the encoder setting
    that uses it (then rebuild the index with it)."""
    print_json(call(lambda: admin.encoder_adapt(
        application(), talents_file=talents, out=out, limit=limit, seed=seed, epochs=epochs,
        layers=layers)))


@bench_app.command("retrieval")
def bench_retrieval(
    talents: Annotated[int, typer.Option(help="sample talents")] = 114_000,
    as_json: Annotated[bool, typer.Option("--json", help="compact JSON")] = False,
) -> None:
    """Index build, warm rebuild, incremental update, query latency and memory at scale."""
    from evaluation.bench_retrieval import main as bench_main

    bench_main(["--talents", str(talents), *(["--json"] if as_json else [])])


def register(app: typer.Typer) -> None:
    """Add the index, evaluate, ranker and bench commands to ``app``."""
    app.add_typer(index_app, name="index")
    app.command()(evaluate)
    app.add_typer(ranker_app, name="ranker")
    app.add_typer(bench_app, name="bench")
    app.add_typer(encoder_app, name="encoder")
