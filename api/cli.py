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
        report = _app().import_file(entity.value, file, progress=not (quiet or as_json),
                                    started_by="cli")
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
    """Library statistics: counts per entity, and imports that did not complete."""
    application = _app()
    counts = application.stats()
    incomplete = application.incomplete_imports()
    if as_json:
        _print_json({**counts, "incomplete_imports": incomplete})
        return
    _print_stats(counts)
    _print_incomplete(incomplete)


def _print_incomplete(incomplete: list[dict[str, Any]]) -> None:
    """The imports that did not complete, with what to do about them."""
    if not incomplete:
        return
    table = Table(title=f"未完成的导入（{len(incomplete)} 次）：再次导入同一文件即可续完")
    for col in ("编号", "类别", "文件", "状态", "已读到行", "新增", "更新", "开始时间", "说明"):
        table.add_column(col, overflow="fold")
    states = {"running": "未完成（进行中或已中断）", "failed": "失败"}
    for item in incomplete:
        table.add_row(item["id"], LABELS.get(item["entity"], item["entity"]), item["file_name"],
                      states.get(item["status"], item["status"]), str(item["last_row"]),
                      str(item["inserted"]), str(item["updated"]),
                      str(item["started_at"])[:19], item.get("message") or "")
    console.print(table)


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
    """The main job: sample (if absent) → import → stats → index → matches → a pairing run."""
    application = _app()
    if not (sample_dir / "talents.csv").exists():
        application.sample(sample_dir, talents=2000, needs=300, seed=42)
        console.print(f"样例数据已生成: {sample_dir}")
    console.print(f"数据库: {application.init()}")
    _import_folder(application, sample_dir)
    _print_stats(application.stats())
    _demo_matching(application)


def _demo_matching(application: Application) -> None:
    """The demo's matching part: index (built or updated), one need's matches, a pairing run."""
    from embeddings.persist import VersionedFolder

    built = VersionedFolder(application.settings.index_dir).current_name() is not None
    manifest = application.index_update() if built else application.index_build()
    console.print(f"索引 {manifest['version']}：人才 {manifest['counts']['talents']}，"
                  f"需求 {manifest['counts']['needs']}（{manifest['encoder']}）")
    workflows = application.workflows()
    needs = workflows.open_needs()
    if not needs:
        return
    result = workflows.match_need(needs[0].id, k=5)
    table = Table(title=f"示例：{needs[0].id} {needs[0].title} 的推荐人才")
    for col in ("#", "人才", "得分", "推荐理由"):
        table.add_column(col, overflow="fold")
    for m in result["matches"]:
        table.add_row(str(m["rank"]), f"{m['talent_id']} {m['name']}", f"{m['score']:.3f}",
                      m["explanation"])
    console.print(table)
    run = workflows.pair_run(progress=_progress("候选生成"), started_by="demo")
    console.print(f"资智结对 {run['run_id']}：{len(run['pairs'])} 对（{run['solver']}），新增待审建议 "
                  f"{run['stored']['added']} 条，沿用未决建议 {len(run['stored']['kept_open'])} 条。"
                  f"查看：talentmatch pair show {run['run_id']}")


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
    from evaluation.evaluator import run_evaluation

    settings = get_settings()
    names = [m.strip() for m in methods.split(",") if m.strip()]
    cache = None if no_cache else (cache_dir or Path(settings.index_dir) / "cache")
    try:
        run_evaluation(needs, talents, qrels, names, encoder or settings.encoder, as_json,
                       cache_dir=cache)
    except ValueError as exc:
        _fail(str(exc))


def _progress(label: str) -> Any:
    """A progress wrapper for long per-need loops (shown on a terminal only)."""
    from rich.progress import track

    def wrap(items: Any) -> Any:
        items = list(items)
        if len(items) < 50 or not err.is_terminal:
            return items
        return track(items, description=label, console=err)

    return wrap


def _call(fn: Any) -> Any:
    """Run ``fn``; a domain error becomes a clear message and exit code 2."""
    try:
        return fn()
    except _domain_errors() as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


def _domain_errors() -> tuple[type[BaseException], ...]:
    from api.workflows import NotFound
    from embeddings.persist import IndexNotBuilt

    return (NotFound, IndexNotBuilt, ValueError)


match_app = typer.Typer(help="Ranked, explained matches in both directions.",
                        no_args_is_help=True)
app.add_typer(match_app, name="match")


@match_app.command("need")
def match_need(
    need_id: Annotated[str, typer.Argument(help="need or challenge id")],
    k: Annotated[int, typer.Option("-k", help="how many talents")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Talents for a need, with Chinese explanations (no contact data)."""
    result = _call(lambda: _app().workflows().match_need(need_id, k=k))
    if as_json:
        _print_json(result)
        return
    need = result["need"]
    table = Table(title=f"{need['id']} {need['title']}（{need['work_group']}，评分：{result['scorer']}）")
    for col in ("#", "人才", "单位", "得分", "推荐理由"):
        table.add_column(col, overflow="fold")
    for m in result["matches"]:
        reason = m["explanation"] + ("；" + "；".join(m["flags"]) if m["flags"] else "")
        table.add_row(str(m["rank"]), f"{m['talent_id']} {m['name']}", m["organisation"] or "",
                      f"{m['score']:.3f}", reason)
    console.print(table)
    if result.get("strength_zh"):
        chance = result.get("top10_chance")
        console.print(f"[bold red]{result['strength_zh']}[/]：前10名中至少一人合适的校准概率仅为 "
                      f"{0.0 if chance is None else chance:.1%}，请谨慎采用或补充需求描述。")
    for d in result["dropped"]:
        console.print(f"[yellow]已排除[/] {d['talent_id']}：{'；'.join(d['reasons'])}")


@match_app.command("talent")
def match_talent(
    talent_id: Annotated[str, typer.Argument(help="talent id")],
    k: Annotated[int, typer.Option("-k", help="how many needs and projects")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Needs and 归根 projects for a talent: what would bring this person home."""
    result = _call(lambda: _app().workflows().match_talent(talent_id, k=k))
    if as_json:
        _print_json(result)
        return
    t = result["talent"]
    for key, label in (("needs", "企业需求"), ("projects", "归根项目")):
        table = Table(title=f"{t['id']} {t['name']}：{label}")
        for col in ("#", "编号", "名称", "得分", "理由"):
            table.add_column(col, overflow="fold")
        for o in result[key]:
            table.add_row(str(o["rank"]), o["id"], o["title"], f"{o['score']:.3f}",
                          o["explanation"])
        console.print(table)


@app.command()
def leads(
    challenge_id: Annotated[str, typer.Argument(help="challenge (揭榜挂帅) id")],
    n: Annotated[int, typer.Option("-n", help="how many leads")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Eligible leads (揭榜人) for a challenge and a proposed team of 3–5, with reasons."""
    result = _call(lambda: _app().workflows().leads(challenge_id, n_leads=n))
    if as_json:
        _print_json(result)
        return
    c = result["challenge"]
    table = Table(title=f"{c['id']} {c['title']}：揭榜人候选")
    for col in ("人才", "综合", "匹配", "领军", "理由"):
        table.add_column(col, overflow="fold")
    for ld in result["leads"]:
        table.add_row(f"{ld['talent_id']} {ld['name']}", f"{ld['lead_score']:.3f}",
                      f"{ld['fit']:.3f}", f"{ld['leadership']:.2f}", ld["reason"])
    console.print(table)
    team = Table(title="建议团队")
    for col in ("角色", "人才", "补充", "理由"):
        team.add_column(col, overflow="fold")
    for t in result["team"]:
        team.add_row(t["role"], f"{t['talent_id']} {t['name']}", "、".join(t["adds"]),
                     t["reason"])
    console.print(team)
    console.print(f"覆盖：{'、'.join(result['covered_terms']) or '—'}；"
                  f"未覆盖：{'、'.join(result['missing_terms']) or '—'}")


pair_app = typer.Typer(help="Pairing runs (资智结对) under loads, demands and conflicts.",
                       no_args_is_help=True)
app.add_typer(pair_app, name="pair")


@pair_app.command("run")
def pair_run(
    solver: Annotated[str, typer.Option(help="flow | fair | greedy")] = "flow",
    max_load: Annotated[int, typer.Option(help="needs per expert at most")] = 3,
    demand: Annotated[int, typer.Option(help="experts per need")] = 1,
    min_score: Annotated[float, typer.Option(help="edges below this score are not used")] = 0.0,
    k: Annotated[int, typer.Option("-k", help="candidate edges per need")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Propose expert–need pairs over every open need; stored as a run with suggestions."""
    result = _call(lambda: _app().workflows().pair_run(
        solver=solver, max_load=max_load, demand=demand, min_score=min_score, k=k,
        progress=_progress("候选生成")))
    if as_json:
        keys = ("run_id", "solver", "objective", "partial", "messages", "pairs", "alternates")
        _print_json({key: result[key] for key in keys})
        return
    console.print(f"结对运行 {result['run_id']}：求解器 {result['solver']}，目标值 "
                  f"{result['objective']}，{len(result['pairs'])} 对，"
                  f"{'部分结果' if result['partial'] else '全部满足'}；新增建议 "
                  f"{result['stored']['added']} 条，沿用未决建议 {len(result['stored']['kept_open'])} 条")
    for msg in result["messages"]:
        console.print(f"[yellow]·[/] {msg}")


@pair_app.command("show")
def pair_show(
    run_id: Annotated[str, typer.Argument(help="run id printed by `pair run`")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """A stored pairing run: parameters, objective, messages and its suggestions."""
    result = _call(lambda: _app().workflows().pair_show(run_id))
    if as_json:
        _print_json(result)
        return
    table = Table(title=f"结对运行 {result['run_id']}（{result['solver']}，目标值 {result['objective']:.3f}）")
    for col in ("需求", "人才", "得分", "工作小组", "状态", "理由"):
        table.add_column(col, overflow="fold")
    for p in result["pairs"]:
        table.add_row(p["need_id"], p["talent_id"], f"{p['score']:.3f}", p["work_group"],
                      p["status"], p["explanation"])
    console.print(table)
    for msg in result["messages"]:
        console.print(f"[yellow]·[/] {msg}")


ranker_app = typer.Typer(help="The learned ranker trained from review decisions.",
                         no_args_is_help=True)
app.add_typer(ranker_app, name="ranker")


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
        help="also re-weigh the signals within a need (default: keep the fused order and "
             "calibrate its scale; see docs/quality.md)")] = False,
) -> None:
    """Train a new ranker version: the calibrated scorer from the library
    (--self-supervised, run at each 3-month refresh), or the re-ranker from approved vs
    rejected suggestions (or say why not)."""
    if self_supervised:
        _print_json(_call(lambda: _app().ranker_train_self_supervised(
            limit=limit, library_max=library_max, seed=seed, learn_weights=learn_weights)))
        return
    _print_json(_app().ranker_train(min_decisions))


@ranker_app.command("info")
def ranker_info() -> None:
    """Which scorer is in use (fused weights or a ranker version) and why."""
    _print_json(_app().ranker_info())


event_app = typer.Typer(help="Matchmaking events (对接会): shortlists, schedules, exports.",
                        no_args_is_help=True)
app.add_typer(event_app, name="event")


@event_app.command("shortlist")
def event_shortlist(
    event: Annotated[str, typer.Argument(help="an event JSON file, or `sample`")],
    export: Annotated[str | None, typer.Option(help="xlsx | csv | html")] = None,
    out: Annotated[Path | None, typer.Option(help="export file (default: var/<event>.<fmt>)")] = None,
    m: Annotated[int, typer.Option(help="strong candidates per enterprise")] = 3,
    meeting_cap: Annotated[int, typer.Option(help="meetings per talent")] = 4,
    strong: Annotated[float | None, typer.Option(help="strong-candidate score (default: upper quartile)")] = None,
    contacts: Annotated[bool, typer.Option("--contacts", help="unmasked contacts")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Choose talents for an event (e.g. 百名鹰才鹰商项目对接会) and schedule the meetings."""
    from api.events import load_event

    try:
        ev = load_event(event)
        if export and export not in ("xlsx", "csv", "html"):
            raise ValueError(f"--export 只能是 xlsx、csv 或 html，收到「{export}」")
        target = out or (Path("var") / f"{ev.id}.{export}" if export else None)
        result = _app().workflows().event_shortlist(
            ev, m=m, meeting_cap=meeting_cap, strong=strong, fmt=export, out=target,
            include_contacts=contacts, progress=_progress("候选生成"))
    except _domain_errors() as exc:
        _fail(str(exc))
        return
    if as_json:
        _print_json(result)
        return
    console.print(f"{result['name']}：入选 {result['talents']} 人，安排会面 {result['meetings']} 场，"
                  f"未能安排 {result['unplaced']} 场")
    for msg in result["messages"]:
        console.print(f"[yellow]·[/] {msg}")
    if result["export"]:
        console.print(f"已导出 → {result['export']}")


bench_app = typer.Typer(help="Benchmarks printing JSON.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("retrieval")
def bench_retrieval(
    talents: Annotated[int, typer.Option(help="sample talents")] = 114_000,
    as_json: Annotated[bool, typer.Option("--json", help="compact JSON")] = False,
) -> None:
    """Index build, warm rebuild, incremental update, query latency and memory at scale."""
    from evaluation.bench_retrieval import main as bench_main

    bench_main(["--talents", str(talents), *(["--json"] if as_json else [])])


def _register_extensions() -> None:
    from api import cli_demand, cli_service

    cli_service.register(app)
    cli_demand.register(app)


_register_extensions()


if __name__ == "__main__":  # pragma: no cover
    app()
