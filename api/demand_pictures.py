"""Pictures of the demand map: a scarcity heatmap and a bar chart of scarce clusters.

Rendered with matplotlib (Agg backend) in a CJK font resolved explicitly, so that Chinese
labels never fall back to DejaVu's missing-glyph boxes. Each picture is written as PNG and
SVG. The PNG is drawn at twice the screen resolution (:data:`DPI`), for reports.

What a report needs is on the heatmap itself: a title with the city and the date, a source
line, cell labels large enough to read, empty cells (no open need) drawn apart from a
scarcity of 0 (grey, hatched, labelled 无需求), and a colour-bar label in words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager
from matplotlib.figure import Figure

from api.services.errors import Unavailable

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Source Han Sans SC",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback",
                "AR PL UMing CN")
CJK_FILES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
             "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
FONT_COMMAND = "sudo apt-get update && sudo apt-get install -y fonts-noto-cjk"
SCREEN_DPI = 100
DPI = 2 * SCREEN_DPI
"""PNG resolution: twice the screen's, so the picture stays sharp in a printed report."""
HEATMAP_SIZE = (9.0, 6.0)
COLOURBAR_LABEL = "紧缺程度（颜色越深：需求越多、能满足的人才越少）"
EMPTY_LABEL = "无需求"
BARS_SIZE = (8.0, 5.0)
TOP_BARS = 12


class MissingCJKFont(Unavailable, RuntimeError):
    """No CJK-capable font could be found."""

    def __init__(self) -> None:
        super().__init__("找不到中文字体 (Noto Sans CJK / WenQuanYi)，无法绘制需求地图图片：请运行 "
                         f"`{FONT_COMMAND}`（或 make system-deps）")


def cjk_font() -> font_manager.FontProperties:
    """A FontProperties pointing at an installed CJK font file.

    Returns:
        The font (its ``get_file()`` is the resolved file).

    Raises:
        MissingCJKFont: when no CJK font is installed.
    """
    for family in CJK_FAMILIES:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=family),
                                         fallback_to_default=False)
        except ValueError:
            continue
        return font_manager.FontProperties(fname=path)
    for file in CJK_FILES:
        if Path(file).exists():
            font_manager.fontManager.addfont(file)
            return font_manager.FontProperties(fname=file)
    raise MissingCJKFont()


def _save(fig: Figure, out: Path, stem: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.png", out / f"{stem}.svg"]
    fig.savefig(paths[0], dpi=DPI)
    fig.savefig(paths[1])
    return paths


def heatmap_matrix(cells: Sequence[Mapping[str, Any]], rows: str, cols: str
                   ) -> tuple[list[str], list[str], list[list[float | None]]]:
    """Row labels, column labels and the scarcity matrix (rows × cols; None where the
    cell has no open need, so that it is told apart from a scarcity of 0).

    Args:
        cells: the map's cells as dicts (``key``, ``scarcity``).
        rows: the dimension on the rows (e.g. ``chain``).
        cols: the dimension on the columns (e.g. ``county``).

    Returns:
        ``(row_labels, col_labels, matrix)``, rows and columns sorted by total scarcity.
    """
    acc: dict[tuple[str, str], float] = {}
    for cell in cells:
        k = (cell["key"].get(rows, "合计"), cell["key"].get(cols, "合计"))
        acc[k] = acc.get(k, 0.0) + float(cell["scarcity"])
    r_tot: dict[str, float] = {}
    c_tot: dict[str, float] = {}
    for (r, c), v in acc.items():
        r_tot[r] = r_tot.get(r, 0.0) + v
        c_tot[c] = c_tot.get(c, 0.0) + v
    rs = sorted(r_tot, key=lambda x: (-r_tot[x], x))
    cs = sorted(c_tot, key=lambda x: (-c_tot[x], x))
    return rs, cs, [[acc.get((r, c)) for c in cs] for r in rs]


DIM_ZH = {"chain": "产业链", "county": "县区", "cluster": "专业方向", "kind": "需求类型",
          "total": "合计"}


def heatmap(cells: Sequence[Mapping[str, Any]], out: Path, rows: str = "chain",
            cols: str = "county", title: str = "高精尖缺人才需求分布图", *,
            city: str = "", day: str = "", source: str = "") -> list[Path]:
    """Draw the rows × cols scarcity heatmap into ``out/heatmap.png`` and ``.svg``.

    Args:
        cells: the map's cells as dicts.
        out: the folder.
        rows: dimension on the rows.
        cols: dimension on the columns.
        title: the picture title (the city is put before it, the date after it).
        city: the programme city.
        day: the date of the computation (ISO).
        source: the source line written under the picture.

    Returns:
        The written paths.
    """
    import numpy as np

    font = cjk_font()
    rs, cs, m = heatmap_matrix(cells, rows, cols)
    values = np.array([[np.nan if v is None else v for v in row] for row in m] or [[np.nan]],
                      dtype=float)
    fig = Figure(figsize=HEATMAP_SIZE, dpi=SCREEN_DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.set_facecolor("#e4e6ea")
    image = ax.imshow(np.ma.masked_invalid(values), cmap="YlOrRd", aspect="auto", vmin=0.0)
    ax.set_xticks(range(len(cs)), cs, rotation=45, ha="right", fontproperties=font, fontsize=10)
    ax.set_yticks(range(len(rs)), rs, fontproperties=font, fontsize=10)
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
    for i, row in enumerate(m):
        for j, v in enumerate(row):
            if v is None:
                ax.add_patch(_hatch(j, i))
                ax.text(j, i, EMPTY_LABEL, ha="center", va="center", fontsize=7,
                        color="#6b7785", fontproperties=font)
            else:
                ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=9,
                        fontweight="bold", color="white" if v > top * 0.6 else "black")
    ax.set_xlabel(DIM_ZH.get(cols, cols), fontproperties=font, fontsize=11)
    ax.set_ylabel(DIM_ZH.get(rows, rows), fontproperties=font, fontsize=11)
    full = f"{city}{title}" + (f"（{day}）" if day else "")
    ax.set_title(full, fontproperties=font, fontsize=14)
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(COLOURBAR_LABEL, fontproperties=font, fontsize=10)
    fig.text(0.01, 0.005, source or f"来源：talentmatch 需求地图；灰色斜线格为{EMPTY_LABEL}",
             fontproperties=font, fontsize=8, color="#444444", ha="left", va="bottom")
    return _save(fig, out, "heatmap")


def _hatch(x: int, y: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, hatch="///", edgecolor="#b5bac1",
                     linewidth=0)


def bars(clusters: Sequence[Mapping[str, Any]], out: Path,
         title: str = "紧缺专业方向 Top") -> list[Path]:
    """Draw the top scarce clusters as horizontal bars into ``out/bars.png`` and ``.svg``.

    Args:
        clusters: dicts with ``label``, ``scarcity`` and ``needs`` (sorted or not).
        out: the folder.
        title: the picture title.

    Returns:
        The written paths.
    """
    font = cjk_font()
    top = sorted(clusters, key=lambda c: -float(c["scarcity"]))[:TOP_BARS][::-1]
    fig = Figure(figsize=BARS_SIZE, dpi=SCREEN_DPI, layout="constrained")
    ax = fig.add_subplot()
    values = [float(c["scarcity"]) for c in top]
    ax.barh(range(len(top)), values, color="#c0392b")
    ax.set_yticks(range(len(top)), [str(c["label"]) for c in top], fontproperties=font,
                  fontsize=9)
    for i, c in enumerate(top):
        ax.text(values[i], i, f" {values[i]:.1f}（{c['needs']}项）", va="center",
                fontproperties=font, fontsize=8)
    ax.set_xlabel("紧缺指数", fontproperties=font)
    ax.set_title(f"{title}{len(top)}", fontproperties=font, fontsize=13)
    ax.margins(x=0.25)
    return _save(fig, out, "bars")
