"""CLI command of the demand map (`demand-map`), registered on the main app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from api.cli_common import application, call, console, print_json
from api.services import demand_map as demand_maps
from api.services.errors import Invalid


def parse_by(text: str) -> tuple[str, ...]:
    """``chain,county`` → ``("chain", "county")``; raises typer.BadParameter on unknown names."""
    try:
        return demand_maps.parse_by(text)
    except Invalid as exc:
        known = ", ".join(demand_maps.dimensions())
        raise typer.BadParameter(f"只能取 {known} (逗号分隔)，收到: {text}",
                                 param_hint="--by") from exc


def _print(dm: Any, files: list[Path]) -> None:
    t = dm["totals"]
    console.print(f"开放需求 {t['needs']} 项，紧缺指数合计 {t['scarcity']:.2f}"
                  f"（需求权重 {t['weight']:.2f}），强匹配阈值 {dm['threshold']}，"
                  f"紧缺需求 {t['scarce']} 项，强匹配人才 {t['strong_talents']} 人")
    if dm["previous"]:
        console.print(f"较上期快照 {dm['previous']}：紧缺指数变化 {t['scarcity_change']:+.2f}")
    table = Table(title="紧缺单元 Top 10")
    from api.demand_pictures import DIM_ZH

    for name in [*(DIM_ZH.get(d, d) for d in dm["by"]), "需求数", "强匹配人才", "紧缺指数", "变化"]:
        table.add_column(name)
    for c in dm["cells"][:10]:
        change = "—" if c["change"] is None else f"{c['change']:+.2f}"
        table.add_row(*c["key"].values(), str(c["needs"]), str(c["strong_talents"]),
                      f"{c['scarcity']:.2f}", change)
    console.print(table)
    console.print("已写出: " + "、".join(p.name for p in files))


def register(app: typer.Typer) -> None:
    """Add the demand-map command to ``app``."""

    @app.command("demand-map")
    def demand_map(
        out: Annotated[Path, typer.Option(help="output folder")],
        city: Annotated[str | None, typer.Option(help="city (default: settings)")] = None,
        by: Annotated[str, typer.Option(help="cell dimensions: chain, county, cluster, kind")
                      ] = "chain,county",
        threshold: Annotated[float | None, typer.Option(
            help="strong-match score (default 0.55 on the fused scale)")] = None,
        snapshot: Annotated[bool, typer.Option(help="store a snapshot run")] = True,
        as_json: Annotated[bool, typer.Option("--json", help="print the map as JSON")] = False,
    ) -> None:
        """高精尖缺 demand map: demand × strong supply × scarcity, tables and pictures."""
        dims = parse_by(by)
        dm, files = call(lambda: demand_maps.compute(application(), out, by=dims,
                                                     threshold=threshold, city=city,
                                                     snapshot=snapshot))
        if as_json:
            print_json(dm)
        else:
            _print(dm, files)
