"""Formula injection in exports (issue #11): CSV and XLSX cells starting with = + - @ are
neutralised, and importing the export gives the original values back."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from data.io import export_records, import_file
from data.io.formulas import neutralise, restore
from data.records import TalentCreate
from data.taxonomy import Taxonomy
from tests.io_fakes import MemoryStore, fixture_taxonomy

RISKY = {"name": "=HYPERLINK(\"http://evil.example\",\"点我\")",
         "position": "+1+cmd|' /C calc'!A0", "organisation": "-2+3+cmd|' /C calc'!A0",
         "parent_organisation": "@SUM(1+9)*cmd|'/C calc'!A0", "title": "'=已带引号"}


@pytest.fixture(scope="module")
def taxonomy(tmp_path_factory: pytest.TempPathFactory) -> Taxonomy:
    return fixture_taxonomy(tmp_path_factory.mktemp("taxonomy"))


def _talent() -> TalentCreate:
    return TalentCreate.model_validate({"id": "X1", "category": "专业技术",
                                        "hometown_county": "宝丰县", **RISKY})


def test_neutralise_and_restore_are_inverse() -> None:
    for value in [*RISKY.values(), "\tx", "\r=1", "'=1", "''-2"]:
        assert neutralise(value).startswith("'")
        assert restore(neutralise(value)) == value
    assert neutralise("平顶山学院") == "平顶山学院" and neutralise(-5) == -5
    assert restore("'普通文本") == "'普通文本"


def test_csv_cells_start_with_an_apostrophe(taxonomy: Taxonomy, tmp_path: Path) -> None:
    path = export_records([_talent()], "talents", tmp_path / "t.csv", taxonomy=taxonomy)
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    cells = [c for row in rows[1:] for c in row]
    risky = set(RISKY.values())  # '=已带引号 gets one more apostrophe
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells), cells
    assert {"'" + v for v in risky} <= set(cells)


def test_xlsx_cells_are_quoted_text(taxonomy: Taxonomy, tmp_path: Path) -> None:
    path = export_records([_talent()], "talents", tmp_path / "t.xlsx", taxonomy=taxonomy)
    ws = load_workbook(path).active
    assert ws is not None
    found = {c.value: c for row in ws.iter_rows(min_row=2) for c in row if c.value}
    assert "''=已带引号" in found  # an apostrophe that the importer would drop is doubled
    for value in [v for v in RISKY.values() if not v.startswith("'")]:
        cell = found[value]
        assert cell.data_type == "s", value  # text, never a formula
        assert cell.quotePrefix, value  # Excel / LibreOffice show and keep it as text


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_round_trip_gives_the_original_values(taxonomy: Taxonomy, tmp_path: Path,
                                              ext: str) -> None:
    store = MemoryStore()
    path = export_records([_talent()], "talents", tmp_path / f"t.{ext}", taxonomy=taxonomy)
    report = import_file(path, "talents", store, taxonomy=taxonomy)
    assert report.inserted == 1 and report.rejected == 0, report.summary_zh()
    back = store.records["talents"]["X1"]
    for field, value in RISKY.items():
        assert getattr(back, field) == value
