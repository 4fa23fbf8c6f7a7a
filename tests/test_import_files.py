"""Hostile and real-world files (#11 §3): each with its message and the row counts before and
after. The files are built here: random bytes, a zip bomb, merged-title and two-row-header
workbooks, a GBK sheet without id column, a JSON Lines file with one broken line, and
interrupted imports. Store-backed tests run on SQLite and PostgreSQL (``store`` fixture)."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from data.io import (
    ImportFileError,
    ImportLimitError,
    ImportLimits,
    MissingColumnsError,
    import_file,
)
from data.io import readers as readers_module
from data.records import Record
from data.store import Store
from data.taxonomy import Taxonomy
from tests.io_fakes import MemoryStore, fixture_taxonomy

HEADER = ["人才编号", "姓名", "籍贯", "人才类别", "每年可在平月数", "手机"]


@pytest.fixture(scope="module")
def taxonomy(tmp_path_factory: pytest.TempPathFactory) -> Taxonomy:
    return fixture_taxonomy(tmp_path_factory.mktemp("taxonomy"))


def write_csv(path: Path, rows: Sequence[Sequence[str]], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(",".join(r) for r in rows) + "\r\n").encode(encoding))
    return path


def talent_rows(n: int, start: int = 1) -> list[list[str]]:
    return [[f"T{i:06d}", f"人{i}", "宝丰", "专技", "", ""] for i in range(start, start + n)]


def random_xlsx(path: Path) -> Path:
    path.write_bytes(os.urandom(4096))
    return path


def zip_bomb(path: Path, mib: int) -> Path:
    """A file that looks like a workbook and unpacks ``mib`` MiB of sheet XML."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b"<c><v>0</v></c>" * 4096
            for _ in range(mib * 1024 * 1024 // len(chunk)):
                sheet.write(chunk)
    return path


# --- not a workbook, zip bombs, limits -----------------------------------------------------

def test_random_bytes_named_xlsx_is_a_clear_error(taxonomy: Taxonomy, tmp_path: Path) -> None:
    store = MemoryStore()
    with pytest.raises(ImportFileError) as info:
        import_file(random_xlsx(tmp_path / "人才.xlsx"), "talents", store, taxonomy=taxonomy)
    message = str(info.value)
    assert "「人才.xlsx」不是有效的 Excel 工作簿" in message and "另存为" in message
    assert store.calls == 0


def test_a_zip_that_is_not_a_workbook_is_refused(taxonomy: Taxonomy, tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ImportFileError, match="不是有效的 Excel 工作簿"):
        import_file(path, "talents", MemoryStore(), taxonomy=taxonomy)


def test_zip_bomb_is_refused_before_it_is_opened(taxonomy: Taxonomy, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = zip_bomb(tmp_path / "bomb.xlsx", 400)
    assert bomb.stat().st_size < 5 * 1024 * 1024
    opened: list[Any] = []
    import openpyxl

    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(a))
    store = MemoryStore()
    with pytest.raises(ImportLimitError) as info:
        import_file(bomb, "talents", store, taxonomy=taxonomy)  # default limits
    message = str(info.value)
    assert "解压后约 400 MB" in message and "上限 200 MB" in message
    assert "TALENTMATCH_IMPORT_MAX_XLSX_MB" in message
    assert opened == [] and store.calls == 0


def test_xlsx_cap_is_a_setting(taxonomy: Taxonomy, tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "b.xlsx", 3)
    with pytest.raises(ImportLimitError, match="上限 2 MB"):
        import_file(bomb, "talents", MemoryStore(), taxonomy=taxonomy,
                    limits=ImportLimits.of(max_xlsx_mb=2))


def test_row_cap_refuses_a_csv_before_writing(taxonomy: Taxonomy, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [HEADER, *talent_rows(6)])
    store = MemoryStore()
    with pytest.raises(ImportLimitError) as info:
        import_file(path, "talents", store, taxonomy=taxonomy, limits=ImportLimits(max_rows=5))
    assert "（6）超过上限 5 行" in str(info.value) and "TALENTMATCH_IMPORT_MAX_ROWS" in str(
        info.value)
    assert store.calls == 0
    report = import_file(path, "talents", store, taxonomy=taxonomy,
                         limits=ImportLimits(max_rows=6))
    assert report.inserted == 6


def test_row_cap_stops_an_xlsx_sheet(taxonomy: Taxonomy, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    for row in [HEADER, *talent_rows(8)]:
        ws.append(row)
    wb.save(tmp_path / "t.xlsx")
    store = MemoryStore()
    with pytest.raises(ImportLimitError, match="超过上限 5 行"):
        import_file(tmp_path / "t.xlsx", "talents", store, taxonomy=taxonomy,
                    limits=ImportLimits(max_rows=5), batch_size=2)
    assert len(store.records["talents"]) == 4  # two full batches landed before the cap


def test_unclosed_csv_quote_is_a_file_error(taxonomy: Taxonomy, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("人才编号,姓名,人才类别\nT1,\"张三,专技\nT2,李四,专技\n", encoding="utf-8")
    store = MemoryStore()
    with pytest.raises(ImportFileError, match="引号未闭合"):
        import_file(path, "talents", store, taxonomy=taxonomy)
    assert store.calls == 0


def test_csv_row_wider_than_the_header_is_a_row_error(taxonomy: Taxonomy,
                                                      tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("人才编号,姓名,人才类别,工作单位\nT1,张三,专技,郑州大学\n"
                    "T2,李四,专技,郑州大学,化学院\nT3,王五,专技,\n", encoding="utf-8")
    store = MemoryStore()
    report = import_file(path, "talents", store, taxonomy=taxonomy)
    assert (report.rows, report.inserted, report.rejected) == (3, 2, 1)
    [error] = report.errors
    assert error.row == 3 and "多于表头的 4 列" in error.reason
    assert sorted(store.records["talents"]) == ["T1", "T3"]


# --- JSON Lines: a broken line ------------------------------------------------------------

def test_jsonl_broken_line_is_reported_and_good_lines_land(taxonomy: Taxonomy,
                                                           tmp_path: Path) -> None:
    good = [{"id": f"J{i}", "name": f"人{i}", "category": "专技"} for i in range(1, 6)]
    lines = [json.dumps(x, ensure_ascii=False) for x in good]
    lines.insert(2, '{"id": "J9", "name": "坏行", "category": ')  # line 3
    lines.insert(4, '["not", "an", "object"]')  # line 5
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = MemoryStore()
    report = import_file(path, "talents", store, taxonomy=taxonomy)
    assert (report.rows, report.inserted, report.rejected) == (7, 5, 2)
    assert sorted(store.records["talents"]) == [f"J{i}" for i in range(1, 6)]
    by_row = {e.row: e.reason for e in report.errors}
    assert set(by_row) == {3, 5}
    assert "不是有效的 JSON" in by_row[3] and "该行未导入" in by_row[3]
    assert "JSON 对象" in by_row[5]
    assert "第 3 行：不是有效的 JSON" in report.summary_zh()


def test_jsonl_without_required_field_names_it(taxonomy: Taxonomy, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "J1", "category": "专技"}\n', encoding="utf-8")
    with pytest.raises(MissingColumnsError, match="每条记录"):
        import_file(path, "talents", MemoryStore(), taxonomy=taxonomy)


# --- real bureau sheets -------------------------------------------------------------------

def test_merged_title_row_above_the_header(taxonomy: Taxonomy, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["平顶山市在外优秀人才信息表（2024年）"])
    ws.merge_cells("A1:F1")
    ws.append(HEADER)
    ws.append(["0001", "张伟", "宝丰", "专业技术", 4, 13800138000])
    ws.append(["0002", "李娜", "卫东", "科学家", 3, None])
    ws.append(["0003", "王强", "汝州", "专技", None, None])
    wb.save(tmp_path / "t.xlsx")
    store = MemoryStore()
    report = import_file(tmp_path / "t.xlsx", "talents", store, taxonomy=taxonomy)
    assert report.header_row == 2 and "表头在第 2 行" in report.summary_zh()
    assert (report.rows, report.inserted, report.rejected) == (3, 2, 1), report.summary_zh()
    [error] = report.errors
    assert (error.row, error.field) == (4, "人才类别")  # the row Excel shows
    assert store.records["talents"]["0001"].contact.phone == "13800138000"


def two_row_header_sheet(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    """Title, then 序号 merged down two rows, 基本信息 merged over six columns, 联系方式 over
    two, and the column names in row 3: no id column, as the bureaus send them."""
    wb = Workbook()
    ws = wb.active
    ws.append(["南阳市诸葛英才信息汇总表"])
    ws.merge_cells("A1:I1")
    ws.append(["序号", "基本信息", None, None, None, None, None, "联系方式", None])
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:G2")
    ws.merge_cells("H2:I2")
    ws.append([None, "姓名", "籍贯", "人才类别", "工作单位", "职称", "主要成果", "手机", "邮箱"])
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


def test_two_row_header_without_id_column(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [
        [1, "张伟", "宝丰", "专技", "郑州大学", "教授", "论文：尼龙研究（二〇一九）", "13800138000", ""],
        [2, "李娜", "卫东", "专技", "河南大学", "", "专利：一种装置（20199）", "13912345678", ""],
        [3, "王强", "汝州", "专技", "中原工学院", "", "", None, "wq@example.com"],
        [4, "赵六", "汝州", "专技", None, "", "", None, None],
    ]
    path = two_row_header_sheet(tmp_path / "t.xlsx", rows)
    store = MemoryStore()
    report = import_file(path, "talents", store, taxonomy=taxonomy)
    assert report.header_row == 3 and report.unknown_columns == ["序号"]
    assert (report.rows, report.inserted, report.rejected) == (4, 2, 2), report.summary_zh()
    by_row = {e.row: e for e in report.errors}
    assert by_row[5].field == "主要成果" and "20199" in by_row[5].reason
    assert "第 1 项" in by_row[5].reason and "四位年份" in by_row[5].reason
    assert by_row[7].field == "人才编号" and "姓名 + 手机" in by_row[7].reason
    talents = store.records["talents"]
    by_name = {t.name: t for t in talents.values()}
    assert by_name["张伟"].achievements[0].year == 2019
    assert by_name["张伟"].id.startswith("TK-M-") and by_name["王强"].id.startswith("TK-O-")
    assert by_name["王强"].contact.email == "wq@example.com"
    again = import_file(path, "talents", store, taxonomy=taxonomy)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 2)
    assert set(store.records["talents"]) == set(talents)


def test_gbk_csv_without_id_column_natural_keys(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [["姓名", "籍贯", "工作单位", "手机", "人才类别"],
            ["张伟", "宝丰", "郑州大学", "13800138000", "专技"],
            ["张伟", "宝丰", "郑州大学", "138 0013 8000", "专技"],  # same person again
            ["张伟", "卫东", "清华大学", "13912345678", "专技"],  # same name, other mobile
            ["李娜", "卫东", "河南大学", "", "专技"],
            ["王强", "汝州", "", "", "专技"]]
    path = write_csv(tmp_path / "t.csv", rows, encoding="gbk")
    store = MemoryStore()
    report = import_file(path, "talents", store, taxonomy=taxonomy)
    assert report.encoding == "gb18030"
    assert (report.rows, report.inserted, report.rejected) == (5, 3, 2), report.summary_zh()
    errors = {e.row: e for e in report.errors}
    assert errors[3].field == "姓名" and "与第 2 行相同" in errors[3].reason
    assert errors[6].field == "人才编号" and "姓名 + 工作单位" in errors[6].reason
    text = report.summary_zh()
    assert "没有编号列" in text and "可能重复的记录 1 处" in text
    assert "第 4 行与第 2 行姓名相同（「张伟」）" in text
    ids = sorted(store.records["talents"])
    again = import_file(path, "talents", store, taxonomy=taxonomy)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert sorted(store.records["talents"]) == ids


def test_sheet_without_id_or_natural_key_says_what_is_needed(taxonomy: Taxonomy,
                                                             tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [["姓名", "籍贯", "人才类别"], ["张伟", "宝丰", "专技"]])
    with pytest.raises(MissingColumnsError) as info:
        import_file(path, "talents", MemoryStore(), taxonomy=taxonomy)
    assert "人才编号" in str(info.value) and "姓名 + 手机，或 姓名 + 工作单位" in str(info.value)


def test_title_row_above_a_csv_header(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [["平顶山市人才信息表"], [""], HEADER, *talent_rows(2)]
    report = import_file(write_csv(tmp_path / "t.csv", rows), "talents", MemoryStore(),
                         taxonomy=taxonomy)
    assert report.header_row == 3 and report.inserted == 2


@pytest.mark.parametrize("written, year", [("（2019）", 2019), ("(2019年)", 2019),
                                           ("（二〇一九）", 2019), ("（二零二一）", 2021),
                                           ("（２０１８）", 2018)])
def test_bracketed_years(taxonomy: Taxonomy, tmp_path: Path, written: str, year: int) -> None:
    rows = [["人才编号", "姓名", "人才类别", "主要成果"], ["1", "甲", "专技", f"论文：研究{written}"]]
    store = MemoryStore()
    report = import_file(write_csv(tmp_path / "t.csv", rows), "talents", store,
                         taxonomy=taxonomy)
    assert report.rejected == 0, report.summary_zh()
    [item] = store.records["talents"]["1"].achievements
    assert (item.title, item.year) == ("研究", year)


@pytest.mark.parametrize("written", ["（20199）", "（201）"])
def test_bad_years_are_reported_not_dropped(taxonomy: Taxonomy, tmp_path: Path,
                                            written: str) -> None:
    rows = [["人才编号", "姓名", "人才类别", "主要成果"],
            ["1", "甲", "专技", "论文：好（2019）"],
            ["2", "乙", "专技", f"论文：好（2019）；专利：坏{written}"]]
    store = MemoryStore()
    report = import_file(write_csv(tmp_path / "t.csv", rows), "talents", store,
                         taxonomy=taxonomy)
    if written == "（201）":  # three digits are not a year: kept in the title
        assert report.rejected == 0 and store.records["talents"]["2"].achievements[1].year is None
        return
    [error] = report.errors
    assert (error.row, error.field, report.inserted) == (3, "主要成果", 1)
    assert error.reason.startswith("第 2 项：年份「20199」无效")


# --- streaming ----------------------------------------------------------------------------

def test_import_streams_the_file_in_chunks(taxonomy: Taxonomy, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """When the first batch is written, the second pass has read only part of the file."""
    path = write_csv(tmp_path / "big.csv", [HEADER, *talent_rows(20_000)])
    size = path.stat().st_size
    read = {"bytes": 0}
    original = readers_module._Tap.readinto

    def counting(self: Any, buffer: Any) -> int:
        n = original(self, buffer)
        read["bytes"] += n
        return n

    monkeypatch.setattr(readers_module._Tap, "readinto", counting)
    seen_at_upsert: list[int] = []
    store = MemoryStore()

    def upsert(entity: str, records: Sequence[Record]) -> Any:
        seen_at_upsert.append(read["bytes"])
        return store.upsert(entity, records)

    report = import_file(path, "talents", upsert, taxonomy=taxonomy, progress=False,
                         batch_size=1000)
    assert report.inserted == 20_000 and len(seen_at_upsert) == 20
    first_pass = size  # the scan reads the whole file once
    assert seen_at_upsert[0] - first_pass < size / 4, (seen_at_upsert[0], size)
    assert seen_at_upsert == sorted(seen_at_upsert) and read["bytes"] == 2 * size


# --- import records and interruptions (SQLite and PostgreSQL) ------------------------------

class _Killed(BaseException):
    """Stands for kill -9: nothing after it runs in the importing process."""


class DyingStore:
    """The store, but the process "dies" after ``batches`` upserts: the import's last
    record update never happens (as under kill -9)."""

    def __init__(self, store: Store, batches: int) -> None:
        self.store, self.left = store, batches

    def upsert(self, entity: str, records: Sequence[Record]) -> Any:
        if self.left == 0:
            raise _Killed()
        self.left -= 1
        return self.store.upsert(entity, records)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def finish_import(self, import_id: str, status: str, counts: Any,
                      message: str | None = None) -> list[str]:
        return []  # a killed process writes nothing more


def test_interrupted_import_shows_incomplete_and_rerun_completes(
        store: Store, taxonomy: Taxonomy, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "talents.csv", [HEADER, *talent_rows(50)])
    assert store.count("talents") == 0 and store.incomplete_imports() == []
    dying = DyingStore(store, batches=2)
    with pytest.raises(_Killed):
        import_file(path, "talents", dying, taxonomy=taxonomy, batch_size=10, journal=dying,
                    started_by="test")
    assert store.count("talents") == 20
    [broken] = store.incomplete_imports()
    assert broken["status"] == "running" and broken["incomplete"] is True
    assert (broken["entity"], broken["file_name"], broken["started_by"]) == (
        "talents", "talents.csv", "test")
    assert (broken["inserted"], broken["last_row"]) == (20, 21)
    assert len(broken["file_hash"]) == 64 and broken["file_size"] == path.stat().st_size

    report = import_file(path, "talents", store, taxonomy=taxonomy, batch_size=10,
                         journal=store)
    assert (report.inserted, report.unchanged, report.rejected) == (30, 20, 0)
    assert "此前的导入未完成" in report.summary_zh() and report.resumed == [broken["id"]]
    assert store.count("talents") == 50 and store.incomplete_imports() == []
    records = {r["id"]: r for r in store.imports()}
    assert records[broken["id"]]["status"] == "resumed"
    assert records[broken["id"]]["resumed_by"] == report.import_id
    assert records[report.import_id]["status"] == "complete"
    assert records[report.import_id]["rows"] == 50

    again = import_file(path, "talents", store, taxonomy=taxonomy, journal=store)
    assert (again.inserted, again.unchanged, again.resumed) == (0, 50, [])


def test_import_stopped_by_an_error_is_recorded_failed(store: Store, taxonomy: Taxonomy,
                                                       tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    for row in [HEADER, *talent_rows(8)]:
        ws.append(row)
    wb.save(tmp_path / "t.xlsx")
    with pytest.raises(ImportLimitError):
        import_file(tmp_path / "t.xlsx", "talents", store, taxonomy=taxonomy, batch_size=2,
                    limits=ImportLimits(max_rows=5), journal=store)
    [failed] = store.incomplete_imports()
    assert failed["status"] == "failed" and "超过上限 5 行" in failed["message"]
    assert failed["inserted"] == store.count("talents") == 4


def test_refused_file_leaves_no_record(store: Store, taxonomy: Taxonomy,
                                       tmp_path: Path) -> None:
    with pytest.raises(ImportFileError):
        import_file(random_xlsx(tmp_path / "t.xlsx"), "talents", store, taxonomy=taxonomy,
                    journal=store)
    assert store.imports() == [] and store.count("talents") == 0
