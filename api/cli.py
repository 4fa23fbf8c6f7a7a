"""The ``talentmatch`` command line (typer). Every command has ``--help``; docs/cli.md mirrors it.

Commands are thin: they parse options, call the service layer (:mod:`api.services`) and
print. This module holds the library commands (init, import, export, sample, stats, demo);
the others are registered from :mod:`api.cli_index` (index, ranker, evaluate, bench),
:mod:`api.cli_match` (match, leads, pair, event), :mod:`api.cli_service` (serve, user) and
:mod:`api.cli_demand` (demand-map).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from api.application import Application
from api.cli_common import LABELS, Entity, application, call, console, print_json, progress
from api.services import admin, matching, pairing, transfer
from api.services.types import JSONObject

app = typer.Typer(
    help="talentmatch: 人才与企业需求匹配 (平顶山归根工程 / 南阳诸葛英才计划).",
    no_args_is_help=True,
    add_completion=False,
)

DEFAULT_SAMPLE = Path("var/sample")


@app.command()
def init() -> None:
    """Create or upgrade the database schema (runs the migrations)."""
    url = call(lambda: admin.init(application()))
    console.print(f"数据库已就绪: {url}")


@app.command("import")
def import_(
    entity: Annotated[Entity, typer.Argument(help="what the file holds")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV / XLSX / JSONL")],
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")] = False,
) -> None:
    """Import a file: bad rows are reported (row, field, reason); good rows land."""
    report = call(lambda: transfer.import_file(application(), entity.value, file,
                                               progress=not (quiet or as_json),
                                               started_by="cli"))
    if as_json:
        print_json(report.to_dict())
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
    n = call(lambda: transfer.export(application(), entity.value, out, contacts=contacts))
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
    app_ = application()
    info = admin.sample(app_, out, talents=talents, needs=needs, seed=seed)
    console.print(f"样例数据已生成: {info['out']} (人才 {talents}, 需求 {needs}, seed {seed})")
    if load:
        _import_folder(app_, out)


def _import_folder(app_: Application, folder: Path) -> None:
    for entity, path in admin.sample_files(app_, folder):
        report = call(partial(transfer.import_file, app_, entity, path, progress=True))
        report.print(console)


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Library statistics: counts per entity, and imports that did not complete."""
    app_ = application()
    counts = admin.stats(app_)
    incomplete = admin.incomplete_imports(app_)
    if as_json:
        print_json({**counts, "incomplete_imports": incomplete})
        return
    _print_stats(counts)
    _print_incomplete(incomplete)


def _print_incomplete(incomplete: list[JSONObject]) -> None:
    """The imports that did not complete, with what to do about them."""
    if not incomplete:
        return
    table = Table(title=f"未完成的导入（{len(incomplete)} 次）：再次导入同一文件即可续完")
    for col in ("编号", "类别", "文件", "状态", "已读到行", "新增", "更新", "开始时间", "说明"):
        table.add_column(col, overflow="fold")
    states = {"running": "未完成（进行中或已中断）", "failed": "失败"}
    for item in incomplete:
        entity, status = str(item["entity"]), str(item["status"])
        table.add_row(str(item["id"]), LABELS.get(entity, entity), str(item["file_name"]),
                      states.get(status, status), str(item["last_row"]),
                      str(item["inserted"]), str(item["updated"]),
                      str(item["started_at"])[:19], str(item.get("message") or ""))
    console.print(table)


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
    """The main job: sample (if absent) → import → stats → index → matches → a pairing run."""
    app_ = application()
    if not (sample_dir / "talents.csv").exists():
        admin.sample(app_, sample_dir, talents=2000, needs=300, seed=42)
        console.print(f"样例数据已生成: {sample_dir}")
    console.print(f"数据库: {admin.init(app_)}")
    _import_folder(app_, sample_dir)
    _print_stats(admin.stats(app_))
    _demo_matching(app_)


def _demo_matching(app_: Application) -> None:
    """The demo's matching part: index (built or updated), one need's matches, a pairing run."""
    manifest: Any = admin.index_refresh(app_)
    console.print(f"索引 {manifest['version']}：人才 {manifest['counts']['talents']}，"
                  f"需求 {manifest['counts']['needs']}（{manifest['encoder']}）")
    workflows = app_.workflows()
    needs = workflows.open_needs()
    if not needs:
        return
    result: Any = matching.need_matches_plain(workflows, needs[0].id, 5)
    table = Table(title=f"示例：{needs[0].id} {needs[0].title} 的推荐人才")
    for col in ("#", "人才", "得分", "推荐理由"):
        table.add_column(col, overflow="fold")
    for m in result["matches"]:
        table.add_row(str(m["rank"]), f"{m['talent_id']} {m['name']}", f"{m['score']:.3f}",
                      m["explanation"])
    console.print(table)
    run: Any = pairing.run(workflows, progress=progress("候选生成"), started_by="demo")
    console.print(f"资智结对 {run['run_id']}：{len(run['pairs'])} 对（{run['solver']}），新增待审建议 "
                  f"{run['stored']['added']} 条，沿用未决建议 {len(run['stored']['kept_open'])} 条。"
                  f"查看：talentmatch pair show {run['run_id']}")


def _register_extensions() -> None:
    from api import cli_demand, cli_index, cli_match, cli_service

    cli_index.register(app)
    cli_match.register(app)
    cli_service.register(app)
    cli_demand.register(app)


_register_extensions()


if __name__ == "__main__":  # pragma: no cover
    app()
