"""CLI commands of matching (`match need|talent`, `leads`), pairing runs (`pair run|show|export`)
and matchmaking events (`event shortlist`), registered on the main app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from api.cli_common import application, call, console, print_json, progress
from api.services import events, matching, pairing, review_export

match_app = typer.Typer(help="Ranked, explained matches in both directions.",
                        no_args_is_help=True)
pair_app = typer.Typer(help="Pairing runs (资智结对) under loads, demands and conflicts.",
                       no_args_is_help=True)
event_app = typer.Typer(help="Matchmaking events (对接会): shortlists, schedules, exports.",
                        no_args_is_help=True)


@match_app.command("need")
def match_need(
    need_id: Annotated[str, typer.Argument(help="need or challenge id")],
    k: Annotated[int, typer.Option("-k", help="how many talents")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Talents for a need, with Chinese explanations (no contact data)."""
    result: Any = call(lambda: matching.need_matches_plain(application().workflows(), need_id, k))
    if as_json:
        print_json(result)
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
    result: Any = call(lambda: matching.talent_matches(application().workflows(), talent_id, k))
    if as_json:
        print_json(result)
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


def leads(
    challenge_id: Annotated[str, typer.Argument(help="challenge (揭榜挂帅) id")],
    n: Annotated[int, typer.Option("-n", help="how many leads")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Eligible leads (揭榜人) for a challenge and a proposed team of 3–5, with reasons."""
    result: Any = call(lambda: matching.leads(application().workflows(), challenge_id, n))
    if as_json:
        print_json(result)
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
    result: Any = call(lambda: pairing.run(
        application().workflows(), solver=solver, max_load=max_load, demand=demand,
        min_score=min_score, k=k, progress=progress("候选生成")))
    if as_json:
        print_json({key: result[key] for key in pairing.RUN_KEYS})
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
    result: Any = call(lambda: pairing.show(application().workflows(), run_id))
    if as_json:
        print_json(result)
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


@pair_app.command("export")
def pair_export(
    out: Annotated[Path, typer.Argument(help="target file: .xlsx (cover + list), .csv (UTF-8 BOM) or .html (A4 print view)")],
    run: Annotated[str | None, typer.Option(help="only this pairing run")] = None,
    group: Annotated[str | None, typer.Option(help="work group: tech_return | talent_return | project_return | capital_return")] = None,
    status: Annotated[str | None, typer.Option(help="proposed | approved | rejected | deferred")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="first day YYYY-MM-DD (Beijing time)")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="last day YYYY-MM-DD (Beijing time)")] = None,
    contacts: Annotated[bool, typer.Option("--contacts", help="add talents' and enterprises' contacts")] = False,
) -> None:
    """The 资智结对名单: pairs with their review decisions, per run or period."""
    listing: Any = call(lambda: review_export.export_to(
        application(), out, run_id=run, group=group, status=status, date_from=date_from,
        date_to=date_to, contacts=contacts))
    counts = "，".join(f"{k} {v}" for k, v in sorted(listing.counts.items())) or "无"
    console.print(f"资智结对名单：{len(listing.rows)} 条（{counts}）→ {out}")


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
    result: Any = call(lambda: events.shortlist(
        application().workflows(), event, export=export, out=out, m=m, meeting_cap=meeting_cap,
        strong=strong, contacts=contacts, progress=progress("候选生成")))
    if as_json:
        print_json(result)
        return
    console.print(f"{result['name']}：入选 {result['talents']} 人，安排会面 {result['meetings']} 场，"
                  f"未能安排 {result['unplaced']} 场")
    for msg in result["messages"]:
        console.print(f"[yellow]·[/] {msg}")
    if result["export"]:
        console.print(f"已导出 → {result['export']}")


def register(app: typer.Typer) -> None:
    """Add the match, leads, pair and event commands to ``app``."""
    app.add_typer(match_app, name="match")
    app.command()(leads)
    app.add_typer(pair_app, name="pair")
    app.add_typer(event_app, name="event")
