"""The demand-map pictures: real pixels, the expected size, a CJK font (not DejaVu)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from api.demand_pictures import (
    BARS_SIZE,
    DPI,
    HEATMAP_SIZE,
    MissingCJKFont,
    bars,
    cjk_font,
    heatmap,
    heatmap_matrix,
)

CELLS = [{"key": {"chain": "尼龙新材料", "county": "新华区"}, "scarcity": 3.0},
         {"key": {"chain": "尼龙新材料", "county": "汝州市"}, "scarcity": 1.0},
         {"key": {"chain": "特高压电气", "county": "汝州市"}, "scarcity": 2.5},
         {"key": {"chain": "钧瓷文旅", "county": "宝丰县"}, "scarcity": 0.5}]
CLUSTERS = [{"label": "尼龙66·纺丝", "scarcity": 4.0, "needs": 3},
            {"label": "断路器·灭弧室", "scarcity": 2.5, "needs": 2}]
CJK_NAMES = ("notosanscjk", "notoserifcjk", "wqy", "sourcehansans", "droidsansfallback", "uming")


def test_font_is_a_real_cjk_font() -> None:
    path = Path(cjk_font().get_file()).name.lower().replace("-", "").replace("_", "")
    assert "dejavu" not in path
    assert any(n in path for n in CJK_NAMES), path


def test_missing_font_error_names_the_package() -> None:
    assert "sudo apt-get update && sudo apt-get install -y fonts-noto-cjk" in str(MissingCJKFont())


def test_heatmap_matrix_sums_and_orders() -> None:
    rows, cols, m = heatmap_matrix(CELLS, "chain", "county")
    assert rows[0] == "尼龙新材料" and cols[0] == "汝州市"
    assert sum(v for row in m for v in row if v is not None) == pytest.approx(7.0)
    assert m[rows.index("钧瓷文旅")][cols.index("新华区")] is None  # no need: not a 0


def test_png_is_drawn_at_twice_the_screen_resolution() -> None:
    from api.demand_pictures import SCREEN_DPI

    assert DPI >= 2 * SCREEN_DPI


def test_heatmap_has_city_date_source_and_words_on_the_colour_bar(tmp_path: Path) -> None:
    from api.demand_pictures import COLOURBAR_LABEL, EMPTY_LABEL

    heatmap(CELLS, tmp_path, city="平顶山", day="2026-12-01", source="来源：测试数据")
    svg = (tmp_path / "heatmap.svg").read_text(encoding="utf-8")
    for text in ("平顶山高精尖缺人才需求分布图（2026-12-01）", "来源：测试数据", COLOURBAR_LABEL,
                 EMPTY_LABEL):
        assert text in svg, text
    assert "Σ" not in svg


def _look(path: Path, size: tuple[float, float]) -> np.ndarray:
    image = Image.open(path)
    assert image.size == (int(size[0] * DPI), int(size[1] * DPI))
    pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 10  # not blank
    return pixels


def test_heatmap_png_and_svg(tmp_path: Path) -> None:
    written = heatmap(CELLS, tmp_path)
    assert [p.name for p in written] == ["heatmap.png", "heatmap.svg"]
    pixels = _look(tmp_path / "heatmap.png", HEATMAP_SIZE)
    assert (pixels < 250).mean() > 0.2  # the colour cells cover a good share
    svg = (tmp_path / "heatmap.svg").read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "<svg" in svg


def test_bars_png(tmp_path: Path) -> None:
    bars(CLUSTERS, tmp_path)
    _look(tmp_path / "bars.png", BARS_SIZE)
    assert (tmp_path / "bars.svg").stat().st_size > 1000
