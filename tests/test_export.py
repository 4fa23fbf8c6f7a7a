"""Export through data.io: BOM CSV, styled XLSX, JSON Lines, private contacts, round trips."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from data.io import export_columns, export_records, import_file
from data.records import (
    Achievement,
    Challenge,
    Contact,
    Eligibility,
    EnterpriseCreate,
    Need,
    Project,
    Record,
    Talent,
    TalentCreate,
)
from data.taxonomy import Taxonomy
from tests.io_fakes import FIXTURES, MemoryStore, fixture_taxonomy

PHONE = "13800138000"
EMAIL = "zhang@example.com"


@pytest.fixture(scope="module")
def taxonomy(tmp_path_factory: pytest.TempPathFactory) -> Taxonomy:
    """common.yaml plus the fixture cities (平顶山, 南阳), independent of the bundled cities."""
    return fixture_taxonomy(tmp_path_factory.mktemp("taxonomy"))


def talent(**kw: object) -> TalentCreate:
    base: dict[str, object] = {
        "id": "0001", "name": "张伟", "category": "专业技术", "hometown_county": "宝丰县",
        "chains": ["尼龙新材料", "新型储能"], "intent": ["柔性", "咨询"], "months_per_year": 4,
        "achievements": [Achievement(kind="paper", title="尼龙66纺丝", year=2019, text="期刊"),
                         Achievement(title="其他成果")],
        "contact": Contact(phone=PHONE, email=EMAIL),
    }
    base.update(kw)
    return TalentCreate.model_validate(base)


# --- CSV ----------------------------------------------------------------------------------

def test_csv_has_bom_chinese_headers_and_joined_lists(taxonomy: Taxonomy, tmp_path: Path) -> None:
    path = export_records([talent()], "talents", tmp_path / "t.csv", taxonomy=taxonomy)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header[:2] == ["人才编号", "姓名"] and "人才类别" in header
    assert "尼龙新材料、新型储能" in text and "柔性、咨询" in text
    assert "论文：尼龙66纺丝（2019）——期刊；其他：其他成果" in text


def test_contacts_absent_unless_asked_for(taxonomy: Taxonomy, tmp_path: Path) -> None:
    path = export_records([talent()], "talents", tmp_path / "t.csv", taxonomy=taxonomy)
    text = path.read_text(encoding="utf-8-sig")
    for hidden in ("手机", "邮箱", "微信", PHONE, EMAIL):
        assert hidden not in text
    path = export_records([talent()], "talents", tmp_path / "c.csv", taxonomy=taxonomy,
                          include_contacts=True)
    text = path.read_text(encoding="utf-8-sig")
    assert "手机" in text.splitlines()[0] and PHONE in text and EMAIL in text


def test_contacts_mapping_overrides_record(taxonomy: Taxonomy, tmp_path: Path) -> None:
    public = Talent.model_validate(talent().model_dump(exclude={"contact"}))
    contacts = {"0001": Contact(phone="13912345678")}
    path = export_records([public], "talents", tmp_path / "t.csv", taxonomy=taxonomy,
                          include_contacts=True, contacts=contacts)
    assert "13912345678" in path.read_text(encoding="utf-8-sig")
    assert [c.field for c in export_columns("talents") if c.private] == []


def test_dict_records_are_accepted(taxonomy: Taxonomy, tmp_path: Path) -> None:
    rows = [{"id": "N7", "kind": "project", "title": "合作", "required_expertise": ["尼龙"]}]
    path = export_records(rows, "needs", tmp_path / "n.csv", taxonomy=taxonomy)
    text = path.read_text(encoding="utf-8-sig")
    assert "N7,,项目合作,合作" in text


def test_unknown_export_extension(taxonomy: Taxonomy, tmp_path: Path) -> None:
    from data.io import ImportFileError

    with pytest.raises(ImportFileError):
        export_records([talent()], "talents", tmp_path / "t.doc", taxonomy=taxonomy)


# --- XLSX ---------------------------------------------------------------------------------

def test_xlsx_headers_bold_frozen_and_widths(taxonomy: Taxonomy, tmp_path: Path) -> None:
    long_org = "中国科学院某某研究所高分子材料与工程重点实验室"
    records = [talent(organisation=long_org, name="=1+1")]
    path = export_records(records, "talents", tmp_path / "t.xlsx", taxonomy=taxonomy)
    ws = load_workbook(path).active
    headers = [c.value for c in ws[1]]
    assert headers[:2] == ["人才编号", "姓名"] and "手机" not in headers
    assert ws.freeze_panes == "A2" and all(c.font.bold for c in ws[1])
    assert ws["A2"].value == "0001" and ws["B2"].value == "=1+1" and ws["B2"].data_type == "s"
    org_col = ws.cell(row=1, column=headers.index("工作单位") + 1).column_letter
    assert ws.column_dimensions[org_col].width >= 2 * len(long_org)
    values = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert not any(PHONE in v or EMAIL in v for v in values)


# --- JSON Lines ---------------------------------------------------------------------------

def test_jsonl_english_fields_and_no_contact(taxonomy: Taxonomy, tmp_path: Path) -> None:
    path = export_records([talent()], "talents", tmp_path / "t.jsonl", taxonomy=taxonomy)
    [line] = path.read_text(encoding="utf-8").splitlines()
    data = json.loads(line)
    assert data["id"] == "0001" and data["category"] == "专业技术" and "contact" not in data
    assert PHONE not in line
    path = export_records([talent()], "talents", tmp_path / "c.jsonl", taxonomy=taxonomy,
                          include_contacts=True)
    assert json.loads(path.read_text(encoding="utf-8"))["contact"]["phone"] == PHONE


# --- round trips --------------------------------------------------------------------------

@pytest.mark.parametrize("ext", ["csv", "xlsx", "jsonl"])
def test_round_trip_of_imported_file_is_unchanged(taxonomy: Taxonomy, tmp_path: Path,
                                                  ext: str) -> None:
    store = MemoryStore()
    first = import_file(FIXTURES / "talents_gbk.csv", "talents", store, taxonomy=taxonomy)
    assert first.inserted == 10
    records = list(store.records["talents"].values())
    path = export_records(records, "talents", tmp_path / f"t.{ext}", include_contacts=True,
                          taxonomy=taxonomy)
    again = import_file(path, "talents", store, taxonomy=taxonomy)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 10, 0), \
        again.summary_zh()
    assert not again.unknown_columns


@pytest.mark.parametrize("ext", ["csv", "xlsx", "jsonl"])
def test_round_trip_of_every_entity(taxonomy: Taxonomy, tmp_path: Path, ext: str) -> None:
    entities: dict[str, list[Record]] = {
        "talents": [talent(contact=None, updated_at=dt.datetime(2024, 5, 1, 9, 30),
                           ties=["籍贯"], level="A", led_projects=2)],
        "enterprises": [EnterpriseCreate(id="E1", name="平煤神马集团", county="新华区",
                                         chains=["尼龙新材料"], description="尼龙66 盐")],
        "needs": [Need(id="N1", enterprise_id="E1", kind="funding", title="融资",
                       budget=120.5, deadline=dt.date(2025, 1, 31), full_time=True,
                       min_title="副高级", required_expertise=["投资", "并购"])],
        "challenges": [Challenge(id="C1", title="高强尼龙", funding=500, list_no="2024-01",
                                 eligibility=Eligibility(min_title="正高级", regions=["河南"],
                                                         min_months_on_site=6))],
        "projects": [Project(id="P1", name="储能电站", status="negotiating", amount=3000,
                             chain="新型储能", talent_ids=["0001", "0002"])],
    }
    for entity, records in entities.items():
        store = MemoryStore()
        store.upsert(entity, records)
        path = export_records(records, entity, tmp_path / f"{entity}.{ext}", taxonomy=taxonomy)
        report = import_file(path, entity, store, taxonomy=taxonomy)
        assert (report.unchanged, report.updated, report.rejected) == (1, 0, 0), \
            (entity, report.summary_zh())


def test_coded_values_are_written_as_chinese_labels(taxonomy: Taxonomy, tmp_path: Path) -> None:
    need = Need(id="N1", kind="tech", title="改性")
    project = Project(id="P1", name="项目", status="signed")
    assert "技术攻关" in export_records([need], "needs", tmp_path / "n.csv",
                                    taxonomy=taxonomy).read_text(encoding="utf-8-sig")
    assert "已签约" in export_records([project], "projects", tmp_path / "p.csv",
                                   taxonomy=taxonomy).read_text(encoding="utf-8-sig")
