"""Event shortlist export: XLSX (two sheets, frozen header), BOM CSV, printable HTML 签到表."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from data.io.event_export import (
    LIST_HEADERS,
    SCHEDULE_HEADERS,
    export_shortlist,
    mask_email,
    mask_phone,
    render_signin_html,
)
from data.records import Event, Need
from matching.schedule import Schedule
from matching.shortlist import Shortlist, build_event_shortlist
from tests.factories import make_enterprise, make_need, make_talent

EVENT_NAME = "百名鹰才鹰商项目对接会"


@pytest.fixture(scope="module")
def case() -> tuple[Shortlist, Schedule, list, list, list[Need]]:
    talents = [make_talent(i, name=f"张{i}", organisation=f"北京某研究院<{i}>")
               for i in range(6)]
    enterprises = [make_enterprise(i) for i in range(2)]
    needs = [make_need(i, enterprise_id=f"E{i % 2:04d}") for i in range(4)]
    edges = [(n.id, t.id, 0.5 + (i * 7 + j * 3) % 5 / 10, f"理由{i}{j}")
             for i, n in enumerate(needs) for j, t in enumerate(talents)]
    event = Event(id="EV1", name=EVENT_NAME, date=dt.date(2025, 9, 20), capacity=5,
                  enterprise_ids=[e.id for e in enterprises],
                  time_slots=["09:00-09:20", "09:20-09:40", "09:40-10:00"])
    shortlist, schedule = build_event_shortlist(event, edges, talents, needs, enterprises,
                                                m=2, meeting_cap=2)
    return shortlist, schedule, talents, enterprises, needs


def test_masks() -> None:
    assert mask_phone("13800000000") == "138****0000"
    assert mask_email("zhang@example.com") == "z***@example.com"
    assert mask_phone(None) == mask_email("") == ""


def test_xlsx_has_two_sheets_with_frozen_headers_and_masked_contacts(case, tmp_path: Path
                                                                     ) -> None:
    shortlist, schedule, talents, enterprises, needs = case
    path = export_shortlist(shortlist, schedule, talents, enterprises, tmp_path / "名单.xlsx",
                            needs=needs)
    wb = load_workbook(path)
    assert wb.sheetnames == ["名单", "日程"]
    ws = wb["名单"]
    assert ws.freeze_panes == "A2"
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == LIST_HEADERS
    assert ws["A1"].font.bold
    assert len(rows) - 1 == len(shortlist.entries) > 0
    by_name = {r[1]: r for r in rows[1:]}
    talent = {t.id: t for t in talents}
    for number, entry in enumerate(shortlist.entries, start=1):
        t = talent[entry.talent_id]
        row = by_name[t.name]
        assert row[0] == number and row[3] == t.organisation
        assert row[10] == f"{t.contact.phone[:3]}****{t.contact.phone[-4:]}"
        assert row[11].startswith("p***@")
        assert "需求" in row[7] and row[8] == entry.reason_zh
    plan = wb["日程"]
    assert plan.freeze_panes == "A2"
    plan_rows = list(plan.iter_rows(values_only=True))
    assert list(plan_rows[0]) == SCHEDULE_HEADERS
    assert len(plan_rows) - 1 == len(schedule.meetings) + len(schedule.unplaced)


def test_xlsx_with_contacts_allowed_has_full_numbers(case, tmp_path: Path) -> None:
    shortlist, schedule, talents, enterprises, _ = case
    path = export_shortlist(shortlist, schedule, talents, enterprises, tmp_path / "a.xlsx",
                            include_contacts=True)
    rows = list(load_workbook(path)["名单"].iter_rows(values_only=True))[1:]
    phones = {t.contact.phone for t in talents}
    assert rows and all(r[10] in phones for r in rows)


def test_csv_starts_with_bom_and_has_the_headers(case, tmp_path: Path) -> None:
    shortlist, schedule, talents, enterprises, _ = case
    path = export_shortlist(shortlist, schedule, talents, enterprises, tmp_path / "x.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].split(",") == LIST_HEADERS
    assert all(t.contact.phone not in text for t in talents)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Collector:
    parser = _Collector()
    parser.feed(html)
    parser.close()
    return parser


def test_html_signin_sheet_renders_without_contacts(case, tmp_path: Path) -> None:
    shortlist, schedule, talents, enterprises, _ = case
    path = export_shortlist(shortlist, schedule, talents, enterprises, tmp_path / "签到表.html")
    html = path.read_text(encoding="utf-8")
    parsed = _parse(html)
    text = "".join(parsed.text)
    assert EVENT_NAME in text and "2025-09-20" in text and "签名" in text
    talent = {t.id: t for t in talents}
    for entry in shortlist.entries:
        assert talent[entry.talent_id].name in text
    assert "table" in parsed.tags and "@media print" in html and "Noto Sans CJK SC" in html
    assert "北京某研究院&lt;" in html  # escaped
    for t in talents:  # mobiles masked (138****1234), never in full; no e-mail
        assert t.contact.phone not in html and t.contact.email not in html
    listed = {e.talent_id for e in shortlist.entries}
    assert all(mask_phone(t.contact.phone) in html for t in talents if t.id in listed)
    assert "手机" in text and "A4 landscape" in html


def test_html_with_contacts_and_page_breaks(case) -> None:
    shortlist, schedule, talents, enterprises, _ = case
    html = render_signin_html(shortlist, schedule, talents, enterprises, include_contacts=True,
                              rows_per_page=2)
    pages = (len(shortlist.entries) + 1) // 2
    assert html.count('<section class="page">') == pages
    assert f"第 {pages} / {pages} 页" in html
    talent = {t.id: t for t in talents}
    for entry in shortlist.entries:
        assert talent[entry.talent_id].contact.phone in html


def test_unknown_format_is_refused(case, tmp_path: Path) -> None:
    shortlist, schedule, talents, enterprises, _ = case
    with pytest.raises(ValueError, match="xlsx、csv、html"):
        export_shortlist(shortlist, schedule, talents, enterprises, tmp_path / "x.pdf")
    with pytest.raises(ValueError, match="xlsx、csv、html"):
        export_shortlist(shortlist, schedule, talents, enterprises, tmp_path / "x.jsonl")
