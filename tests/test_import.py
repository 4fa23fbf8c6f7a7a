"""Import through data.io: encodings, formats, header mapping, row errors, upsert counts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from data.io import (
    ImportFileError,
    MissingColumnsError,
    NationalIdError,
    import_file,
    read_table,
)
from data.taxonomy import Taxonomy
from tests.io_fakes import FIXTURES, MemoryStore, fixture_taxonomy

HEADER = ["人才编号", "姓名", "籍贯", "人才类别", "每年可在平月数", "手机"]
GOOD = [
    ["0001", "张伟", "宝丰", "优秀专业技术人才", "4", "13800138000"],
    ["0002", "李娜", "卫东区", "专业技术人才", "3", ""],
    ["0003", "王强", "汝州", "专业技术", "", ""],
]


@pytest.fixture(scope="module")
def taxonomy(tmp_path_factory: pytest.TempPathFactory) -> Taxonomy:
    """common.yaml plus the fixture cities (平顶山, 南阳), independent of the bundled cities."""
    return fixture_taxonomy(tmp_path_factory.mktemp("taxonomy"))


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    text = "\r\n".join(",".join(r) for r in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def run(path: Path, taxonomy: Taxonomy, store: MemoryStore | None = None, **kw):
    store = store if store is not None else MemoryStore()
    return import_file(path, "talents", store, taxonomy=taxonomy, **kw), store


# --- the acceptance case ------------------------------------------------------------------

def test_gbk_file_with_good_and_bad_rows(taxonomy: Taxonomy) -> None:
    path = FIXTURES / "talents_gbk.csv"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    report, store = run(path, taxonomy)
    assert (report.inserted, report.updated, report.unchanged, report.rejected) == (10, 0, 0, 3)
    assert report.encoding in ("gbk", "gb18030") and report.fmt == "csv"
    assert {(e.row, e.field) for e in report.errors} == {
        (12, "手机"), (13, "人才类别"), (14, "每年可在平月数")}
    by_row = {e.row: e for e in report.errors}
    assert "手机号" in by_row[12].reason and by_row[12].value == "12345"
    assert "科学家" in by_row[13].reason and "专业技术" in by_row[13].reason
    assert "12" in by_row[14].reason and by_row[14].record_field == "months_per_year"
    talent = store.records["talents"]["0001"]
    assert talent.category == "专业技术" and talent.hometown_county == "宝丰县"
    assert talent.level == "B" and talent.chains == ["尼龙新材料"] and talent.intent == ["柔性"]
    assert talent.title == "教授"  # 职称 is free text: no vocabulary on that column
    assert talent.disciplines == ["材料科学", "化学工程"]
    assert [a.kind for a in talent.achievements] == ["paper", "patent"]
    assert talent.contact.phone == "13800138000"
    assert set(store.records["talents"]) == {f"{i:04d}" for i in range(1, 11)}

    again, _ = run(path, taxonomy, store)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 10, 3)
    assert len(again.errors) == 3


def test_changed_row_counts_as_updated(taxonomy: Taxonomy, tmp_path: Path) -> None:
    store = MemoryStore()
    run(write_csv(tmp_path / "a.csv", [HEADER, *GOOD]), taxonomy, store)
    changed = [*GOOD[:2], ["0003", "王强", "汝州", "专业技术", "6", ""]]
    report, _ = run(write_csv(tmp_path / "b.csv", [HEADER, *changed]), taxonomy, store)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 2)


# --- formats and encodings ----------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings(taxonomy: Taxonomy, tmp_path: Path, encoding: str) -> None:
    rows = [HEADER, *GOOD]
    if encoding == "utf-16":  # Excel's "Unicode text": UTF-16 with BOM, tab-separated
        text = "\r\n".join("\t".join(r) for r in rows) + "\r\n"
        path = tmp_path / "t.csv"
        path.write_bytes(text.encode("utf-16"))
    else:
        path = write_csv(tmp_path / "t.csv", rows, encoding)
    report, store = run(path, taxonomy)
    assert report.inserted == 3 and report.rejected == 0, report.summary_zh()
    assert store.records["talents"]["0001"].name == "张伟"
    expected = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "utf-16": "utf-16"}
    assert report.encoding == expected.get(encoding, "gb18030")


def test_xlsx_is_read_with_text_ids(taxonomy: Taxonomy, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append([*HEADER, "更新时间"])
    ws.append(["0001", "张伟", "宝丰", "专业技术", 4, 13800138000, dt.datetime(2024, 5, 1)])
    ws.append(["0002", "李娜", "卫东", "专技人才", 3.0, None, None])
    wb.save(tmp_path / "t.xlsx")
    report, store = run(tmp_path / "t.xlsx", taxonomy)
    assert report.fmt == "xlsx" and report.encoding is None
    assert report.inserted == 2, report.summary_zh()
    first = store.records["talents"]["0001"]
    assert first.months_per_year == 4 and first.contact.phone == "13800138000"
    assert first.updated_at == dt.datetime(2024, 5, 1)
    assert store.records["talents"]["0002"].months_per_year == 3


def test_jsonl_with_nested_contact_and_lists(taxonomy: Taxonomy, tmp_path: Path) -> None:
    lines = [
        {"id": "0001", "name": "张伟", "category": "专业技术", "chains": ["尼龙", "储能"],
         "contact": {"phone": "13800138000", "email": None}, "months_per_year": 4,
         "achievements": [{"kind": "paper", "title": "尼龙研究", "year": 2020}]},
        {"id": "0002", "name": "李娜", "category": "专技", "hometown_county": "卫东"},
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                    encoding="utf-8")
    report, store = run(path, taxonomy)
    assert report.fmt == "jsonl" and report.inserted == 2, report.summary_zh()
    first = store.records["talents"]["0001"]
    assert first.chains == ["尼龙新材料", "新型储能"] and first.contact.phone == "13800138000"
    assert first.achievements[0].year == 2020


def test_jsonl_rows_are_line_numbers(taxonomy: Taxonomy, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "1", "name": "甲", "category": "专技"}\n\n'
                    '{"id": "2", "name": "乙", "category": "未知类"}\n', encoding="utf-8")
    report, _ = run(path, taxonomy)
    assert [e.row for e in report.errors] == [3]


def test_unknown_extension_is_a_clear_error(taxonomy: Taxonomy, tmp_path: Path) -> None:
    path = tmp_path / "t.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(ImportFileError, match=r"\.csv"):
        run(path, taxonomy)


def test_unknown_entity_lists_entities(taxonomy: Taxonomy, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="talents"):
        import_file(write_csv(tmp_path / "t.csv", [HEADER, *GOOD]), "people", MemoryStore(),
                    taxonomy=taxonomy)


def test_read_table_keeps_leading_zeros(tmp_path: Path) -> None:
    table = read_table(write_csv(tmp_path / "t.csv", [["编号", "电话"], ["0007", "013"]]))
    assert table.frame.iloc[0].tolist() == ["0007", "013"] and table.first_row == 2


# --- headers ------------------------------------------------------------------------------

def test_english_headers(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [["id", "name", "category", "hometown", "phone", "email"],
            ["0001", "张伟", "专业技术", "宝丰", "13800138000", "A@Example.com"]]
    report, store = run(write_csv(tmp_path / "t.csv", rows), taxonomy)
    assert report.inserted == 1 and not report.unknown_columns
    assert store.records["talents"]["0001"].contact.email == "a@example.com"


def test_alias_headers_and_values(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [["\ufeff 编号 ", "姓名", "类别", "手机号码", "ｅｍａｉｌ"],
            ["1", "甲", "优秀专业技术人才", "", ""],
            ["2", "乙", "专业技术人才", "", ""],
            ["3", "丙", "专业技术", "", ""]]
    report, store = run(write_csv(tmp_path / "t.csv", rows), taxonomy)
    assert report.inserted == 3 and not report.unknown_columns, report.summary_zh()
    assert {t.category for t in store.records["talents"].values()} == {"专业技术"}


def test_national_id_column_refuses_the_file(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [[*HEADER, "身份证号"], [*GOOD[0], "410402199001011234"]]
    store = MemoryStore()
    with pytest.raises(NationalIdError) as info:
        run(write_csv(tmp_path / "t.csv", rows), taxonomy, store)
    message = str(info.value)
    assert "本系统不保存身份证号" in message and "「身份证号」" in message
    assert "删除" in message and "重新导入" in message
    assert store.calls == 0 and not store.records


@pytest.mark.parametrize("header", ["公民身份号码", "id_card", "身份证号码（18位）"])
def test_national_id_header_variants(taxonomy: Taxonomy, tmp_path: Path, header: str) -> None:
    with pytest.raises(NationalIdError):
        run(write_csv(tmp_path / "t.csv", [[*HEADER, header], [*GOOD[0], "x"]]), taxonomy)


def test_unknown_column_is_warned_not_fatal(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [[*HEADER, "备注"], [*GOOD[0], "随便写"]]
    report, _ = run(write_csv(tmp_path / "t.csv", rows), taxonomy)
    assert report.inserted == 1 and report.unknown_columns == ["备注"]
    assert "备注" in report.summary_zh() and report.to_dict()["unknown_columns"] == ["备注"]


def test_missing_required_column_lists_accepted_names(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [["人才编号", "籍贯"], ["0001", "宝丰"]]
    store = MemoryStore()
    with pytest.raises(MissingColumnsError) as info:
        run(write_csv(tmp_path / "t.csv", rows), taxonomy, store)
    message = str(info.value)
    for name in ("姓名", "name", "人才类别", "category", "类别"):
        assert name in message
    assert "人才编号" not in message.split("缺少必填列")[1].split("（")[0]
    assert store.calls == 0


def test_headerless_columns_warned_only_when_they_hold_data(taxonomy: Taxonomy,
                                                             tmp_path: Path) -> None:
    rows = [["人才编号", "姓名", "人才类别", "", ""], ["0001", "张伟", "专技", "", "x"]]
    report, _ = run(write_csv(tmp_path / "t.csv", rows), taxonomy)
    assert report.inserted == 1 and report.unknown_columns == ["Unnamed: 4"]


# --- rows ---------------------------------------------------------------------------------

def test_error_value_is_truncated(taxonomy: Taxonomy, tmp_path: Path) -> None:
    long_value = "一种非常非常长的人才类别名称" * 10
    rows = [HEADER, ["0001", "张伟", "宝丰", long_value, "", ""]]
    report, _ = run(write_csv(tmp_path / "t.csv", rows), taxonomy)
    [error] = report.errors
    assert len(error.value) <= 40 and error.value.endswith("…")
    assert long_value.startswith(error.value[:-1])


def test_all_errors_of_a_row_are_reported(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [["人才编号", "姓名", "人才类别", "每年可在平月数", "手机", "邮箱", "籍贯"],
            ["0001", "张伟", "专业技术", "4", "13800138000", "a@b.cn", "宝丰"],
            ["bad id!", "", "科学家", "15", "123", "not-an-email", "火星"]]
    report, store = run(write_csv(tmp_path / "t.csv", rows), taxonomy)
    assert report.inserted == 1 and report.rejected == 1
    assert {e.row for e in report.errors} == {3}
    assert {e.field for e in report.errors} == {
        "人才编号", "姓名", "人才类别", "每年可在平月数", "手机", "邮箱", "籍贯"}
    assert "0001" in store.records["talents"]


def test_duplicate_id_is_an_error_on_the_later_row(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [HEADER, GOOD[0], GOOD[1], ["0001", "张三", "宝丰", "专技", "", ""]]
    report, store = run(write_csv(tmp_path / "t.csv", rows), taxonomy)
    [error] = report.errors
    assert (error.row, error.field) == (4, "人才编号") and "第 2 行" in error.reason
    assert store.records["talents"]["0001"].name == "张伟"


def test_blank_rows_keep_spreadsheet_row_numbers(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [HEADER, GOOD[0], [""] * 0, ["0009", "某", "宝丰", "科学家", "", ""]]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    report, _ = run(path, taxonomy)
    assert report.rows == 2 and [e.row for e in report.errors] == [4]


def test_row_city_picks_the_county_vocabulary(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [["人才编号", "姓名", "人才类别", "所属城市", "籍贯"],
            ["1", "甲", "专技", "南阳市", "卧龙"],
            ["2", "乙", "专技", "", "卧龙"],
            ["3", "丙", "专技", "北京", "宝丰"]]
    report, store = run(write_csv(tmp_path / "t.csv", rows), taxonomy)
    first = store.records["talents"]["1"]
    assert (first.city, first.hometown_county) == ("南阳", "卧龙区")
    assert {(e.row, e.field) for e in report.errors} == {(3, "籍贯"), (4, "所属城市")}
    assert "新华区" in next(e.reason for e in report.errors if e.row == 3)

    report, store = run(write_csv(tmp_path / "u.csv", rows[:3]), taxonomy, city="南阳")
    assert report.inserted == 2 and store.records["talents"]["2"].city == "南阳"


def test_unknown_default_city_is_a_file_error(taxonomy: Taxonomy, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="北京"):
        run(write_csv(tmp_path / "t.csv", [HEADER, *GOOD]), taxonomy, city="北京")


def test_needs_kind_code_title_grade_dates_and_booleans(taxonomy: Taxonomy,
                                                       tmp_path: Path) -> None:
    rows = [["需求编号", "企业编号", "需求类型", "需求名称", "职称要求", "截止日期", "需全职",
             "产业链", "预算（万元）"],
            ["N1", "E1", "技术攻关", "尼龙改性", "教授", "2024/5/1", "是", "尼龙", "50"],
            ["N2", "E1", "引才", "招工程师", "", "2024年12月31日", "否", "", ""],
            ["N3", "E1", "吃饭", "x", "", "明天", "也许", "", "-1"]]
    path = write_csv(tmp_path / "n.csv", rows)
    report = import_file(path, "needs", store := MemoryStore(), taxonomy=taxonomy)
    needs = store.records["needs"]
    assert needs["N1"].kind == "tech" and needs["N1"].min_title == "正高级"
    assert needs["N1"].deadline == dt.date(2024, 5, 1) and needs["N1"].full_time is True
    assert needs["N1"].chain == "尼龙新材料" and needs["N1"].budget == 50
    assert needs["N2"].kind == "talent" and needs["N2"].deadline == dt.date(2024, 12, 31)
    assert {e.field for e in report.errors} == {"需求类型", "截止日期", "需全职", "预算（万元）"}
    assert all(e.row == 4 for e in report.errors)


def test_challenge_eligibility_goes_into_the_nested_model(taxonomy: Taxonomy,
                                                          tmp_path: Path) -> None:
    rows = [["需求编号", "需求名称", "榜单编号", "揭榜职称要求", "揭榜在平月数要求", "地区要求"],
            ["C1", "高性能尼龙", "2024-01", "副教授", "6", "河南；北京"]]
    path = write_csv(tmp_path / "c.csv", rows)
    report = import_file(path, "challenges", store := MemoryStore(), taxonomy=taxonomy)
    assert report.inserted == 1, report.summary_zh()
    challenge = store.records["challenges"]["C1"]
    assert challenge.eligibility.min_title == "副高级"
    assert challenge.eligibility.min_months_on_site == 6
    assert challenge.eligibility.regions == ["河南", "北京"] and challenge.kind == "tech"


def test_callable_sink_batches_and_progress(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [HEADER] + [[f"T{i:05d}", f"人{i}", "宝丰", "专技", "", ""] for i in range(2500)]
    store = MemoryStore()
    report = import_file(write_csv(tmp_path / "big.csv", rows), "talents", store.upsert,
                         taxonomy=taxonomy, progress=True, batch_size=1000)
    assert report.inserted == 2500 and store.calls == 3


def test_report_to_dict_is_json(taxonomy: Taxonomy) -> None:
    report, _ = run(FIXTURES / "talents_gbk.csv", taxonomy, progress=False)
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert data["rejected"] == 3 and len(data["errors"]) == 3
    assert {"row", "field", "reason", "value", "record_field"} <= set(data["errors"][0])
    assert "第 12 行「手机」（contact.phone）" in report.summary_zh()
    from rich.console import Console

    console = Console(record=True, width=120)
    console.print(report.to_rich())
    rendered = console.export_text()
    assert "每年可在平月数" in rendered and "科学家" in rendered


def test_achievement_item_errors_name_the_item(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [["人才编号", "姓名", "人才类别", "主要成果"],
            ["1", "甲", "专技", "论文：短标题（2019）；专利：" + "长" * 301]]
    report, _ = run(write_csv(tmp_path / "t.csv", rows), taxonomy)
    [error] = report.errors
    assert error.field == "主要成果" and error.reason.startswith("第 2 项：")
    assert "300" in error.reason


# --- with the bundled taxonomy and the real store (skipped while those are absent) ----------

def test_gbk_file_with_bundled_taxonomy_and_store(tmp_path: Path) -> None:
    from data.taxonomy import TAXONOMY_DIR, load_taxonomy

    if not list((TAXONOMY_DIR / "cities").glob("*.yaml")):
        pytest.skip("no bundled city files yet")
    store_module = pytest.importorskip("data.store.store")
    bundled = load_taxonomy()
    with store_module.Store.open(f"sqlite:///{tmp_path / 't.db'}") as store:
        first = import_file(FIXTURES / "talents_gbk.csv", "talents", store, taxonomy=bundled)
        again = import_file(FIXTURES / "talents_gbk.csv", "talents", store, taxonomy=bundled)
    assert (first.inserted, first.rejected) == (10, 3), first.summary_zh()
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 10, 3)
