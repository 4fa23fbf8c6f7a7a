"""The demand map's downloads from the page: tables of a map *as the caller may see it*
(the JSON view of :func:`api.services.demand_map.view`), with talent names instead of ids."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from api.demand_export import CSV_HEADERS

DIM_HEADERS = {"chain": "产业链", "county": "县区", "cluster": "专业方向", "kind": "需求类型"}


def cells_table(data: dict[str, Any]) -> pd.DataFrame:
    """One row per cell: its key, demand, supply and scarcity (Chinese headers)."""
    by = list(data["by"])
    columns = [DIM_HEADERS.get(d, d) for d in by] + list(CSV_HEADERS.values())[4:]
    rows = [[c["key"].get(d, "") for d in by] +
            [c["needs"], c["weight"], c["covered"], c["strong_talents"], c["scarcity"],
             c["scarcity_ratio"], "" if c.get("change") is None else c["change"]]
            for c in data["cells"]]
    return pd.DataFrame(rows, columns=columns[:len(by) + 7], dtype=object)


def scarce_table(data: dict[str, Any]) -> pd.DataFrame:
    """The 紧缺 needs with their nearest talents (names; masked for enterprises)."""
    rows = [[s.get("title", ""), s.get("chain", ""), s.get("county", ""), s.get("weight"),
             "" if s.get("best_score") is None else s["best_score"],
             "；".join(f"{c.get('name', '—')}（{c['score']}）缺：{'、'.join(c['missing_terms']) or '无'}"
                      for c in s.get("nearest", []))] for s in data["scarce"]]
    return pd.DataFrame(rows, columns=["需求", "产业链", "县区", "需求权重", "最高匹配分",
                                       "最近人才及所缺专长"], dtype=object)


def high_end_table(data: dict[str, Any]) -> pd.DataFrame:
    """The 高精尖 cells with their talents' names."""
    rows = [[h["label"], h["needs"], h["scarcity"], h["strong_talents"], h["high_level"],
             h["out_of_city"], "、".join(h.get("talent_names", []))] for h in data["high_end"]]
    return pd.DataFrame(rows, columns=["单元", "需求数", "紧缺指数", "强匹配人才数", "A/B类人才",
                                       "市外人才", "柔性引进对象"], dtype=object)


def write_download(data: dict[str, Any], fmt: str) -> Path:
    """Write ``scarce.xlsx`` or ``demand_map.csv`` of ``data`` into a new temporary folder."""
    from data.io.exporter import write_sheets
    from data.io.formulas import neutralise_frame

    folder = Path(tempfile.mkdtemp(prefix="tm-demand-"))
    if fmt == "csv":
        path = folder / "demand_map.csv"
        neutralise_frame(cells_table(data)).to_csv(path, index=False, encoding="utf-8-sig")
        return path
    return write_sheets({"单元格": cells_table(data), "紧缺需求": scarce_table(data),
                         "高精尖": high_end_table(data)}, folder / "scarce.xlsx")
