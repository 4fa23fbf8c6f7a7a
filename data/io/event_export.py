"""Export an event shortlist (对接会名单) and its schedule: XLSX, CSV or a printable HTML 签到表.

- **XLSX**: sheets 名单 (one row per invited talent), 日程 (one row per meeting, slot
  order, unplaced meetings last) and, when given, 参数 (the shortlist's parameters), each
  with a bold frozen header row (cells written as in :mod:`data.io.exporter`), an
  autofilter, wrapped reason text and a landscape A4 print setup fitted to the page width.
- **CSV**: the 名单 table, UTF-8 with a byte-order mark so that Excel reads it (its 时段
  column carries each talent's schedule), then a line ``日程`` and the 日程 table.
- **HTML**: a sign-in sheet (签到表) with the event name, date and venue on every page,
  columns 序号 / 姓名 / 单位 / 对接企业 / 时段 / 手机 (masked, ``138****1234``) / 签名
  (blank), landscape print CSS and a page break every ``rows_per_page`` rows. Rendered by
  Jinja2 from ``templates/signin.html`` (autoescaped).

Contacts: in XLSX and CSV the 手机 and 邮箱 columns hold masked values (``138****0000``,
``z***@example.com``) unless ``include_contacts`` is set by a caller allowed to see them. The
HTML sheet shows masked mobile numbers only, unless ``include_contacts`` (then the full phone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from data.io.exporter import _contact_of, write_sheets
from data.io.formulas import neutralise_frame
from data.io.readers import detect_format
from data.records import Contact

LIST_SHEET = "名单"
SCHEDULE_SHEET = "日程"
LIST_HEADERS = ["序号", "姓名", "人才类别", "工作单位", "职称", "籍贯", "对接企业", "对接需求",
                "推荐理由", "时段", "手机", "邮箱"]
SCHEDULE_HEADERS = ["时段", "对接企业", "序号", "姓名", "工作单位", "对接需求", "备注"]
SIGNIN_HEADERS = ["序号", "姓名", "单位", "对接企业", "时段", "签名"]
UNPLACED = "未排入"
PARAMS_SHEET = "参数"
WRAPPED = {"推荐理由", "对接需求", "时段", "对接企业", "备注"}
"""Columns whose long text wraps in the XLSX."""
ROWS_PER_PAGE = 20
TEMPLATES = Path(__file__).parent / "templates"
SEP = "、"


def mask_phone(phone: str | None) -> str:
    """A phone number with its middle digits hidden: ``13812340000`` → ``138****0000``.

    Args:
        phone: the number (or None).

    Returns:
        The masked number, ``""`` for none.
    """
    if not phone:
        return ""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "****"


def mask_email(email: str | None) -> str:
    """An e-mail address with its local part hidden: ``zhang@example.com`` → ``z***@example.com``.

    Args:
        email: the address (or None).

    Returns:
        The masked address, ``""`` for none.
    """
    if not email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


class _Lookup:
    """Names of talents, enterprises and needs, and each talent's slots, by id."""

    def __init__(self, shortlist: Any, schedule: Any, talents: Any, enterprises: Any,
                 needs: Any) -> None:
        self.talents = _by_id(talents)
        self.enterprises = _by_id(enterprises)
        self.needs = _by_id(needs or [])
        self.number = {e.talent_id: i for i, e in enumerate(shortlist.entries, start=1)}
        self.slots: dict[str, list[str]] = {}
        for m in schedule.meetings if schedule is not None else []:
            self.slots.setdefault(m.talent_id, []).append(
                f"{m.slot} {self.enterprise(m.enterprise_id)}")
        for u in schedule.unplaced if schedule is not None else []:
            self.slots.setdefault(u.meeting.talent_id, []).append(
                f"{UNPLACED}：{self.enterprise(u.meeting.enterprise_id)}")

    def talent(self, talent_id: str, field: str) -> str:
        value = getattr(self.talents.get(talent_id), field, None)
        return "" if value is None else str(value)

    def enterprise(self, enterprise_id: str) -> str:
        ent = self.enterprises.get(enterprise_id)
        return ent.name if ent is not None else enterprise_id

    def need(self, need_id: str) -> str:
        need = self.needs.get(need_id)
        return need.title if need is not None else need_id


def _by_id(records: Iterable[Any] | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(records, Mapping):
        return dict(records)
    return {str(getattr(r, "id", "")): r for r in records}


def shortlist_frame(shortlist: Any, schedule: Any, talents: Any, enterprises: Any, *,
                    needs: Any = None, include_contacts: bool = False,
                    contacts: Mapping[str, Contact | Mapping[str, Any] | None] | None = None,
                    ) -> pd.DataFrame:
    """The 名单 table: one row per invited talent, Chinese headers (:data:`LIST_HEADERS`).

    Args:
        shortlist: a :class:`matching.shortlist.Shortlist`.
        schedule: its :class:`matching.schedule.Schedule` (or None: 时段 left empty).
        talents: Talent records, or id → Talent.
        enterprises: Enterprise records, or id → Enterprise.
        needs: Need records, or id → Need (for titles; ids are shown without them).
        include_contacts: full 手机 / 邮箱 instead of masked ones.
        contacts: talent id → contact; when None, a talent's own ``contact`` field is used.

    Returns:
        The table.
    """
    look = _Lookup(shortlist, schedule, talents, enterprises, needs)
    rows = []
    for entry in shortlist.entries:
        tid = entry.talent_id
        record = look.talents.get(tid)
        contact = _contact_of(record, contacts) if record is not None else None
        phone = contact.phone if contact else None
        email = contact.email if contact else None
        rows.append([
            look.number[tid], look.talent(tid, "name") or tid, look.talent(tid, "category"),
            look.talent(tid, "organisation"), look.talent(tid, "title"),
            look.talent(tid, "hometown_county"),
            SEP.join(look.enterprise(e) for e in entry.enterprises),
            SEP.join(look.need(n) for n in entry.needs), entry.reason_zh,
            "；".join(look.slots.get(tid, [])),
            (phone or "") if include_contacts else mask_phone(phone),
            (email or "") if include_contacts else mask_email(email),
        ])
    return pd.DataFrame(rows, columns=LIST_HEADERS, dtype=object)


def schedule_frame(shortlist: Any, schedule: Any, talents: Any, enterprises: Any, *,
                   needs: Any = None) -> pd.DataFrame:
    """The 日程 table: one row per meeting in slot order, then unplaced ones with the reason.

    Args:
        shortlist: the shortlist (for each talent's 序号).
        schedule: the schedule.
        talents: Talent records, or id → Talent.
        enterprises: Enterprise records, or id → Enterprise.
        needs: Need records, or id → Need (for titles).

    Returns:
        The table (:data:`SCHEDULE_HEADERS`).
    """
    look = _Lookup(shortlist, schedule, talents, enterprises, needs)
    rows = []
    items = [(m.slot, m.meeting, "") for m in schedule.meetings]
    items += [(UNPLACED, u.meeting, u.reason) for u in schedule.unplaced]
    for slot, meeting, note in items:
        tid = meeting.talent_id
        rows.append([slot, look.enterprise(meeting.enterprise_id), look.number.get(tid, ""),
                     look.talent(tid, "name") or tid, look.talent(tid, "organisation"),
                     SEP.join(look.need(n) for n in meeting.need_ids), note])
    return pd.DataFrame(rows, columns=SCHEDULE_HEADERS, dtype=object)


def render_signin_html(shortlist: Any, schedule: Any, talents: Any, enterprises: Any, *,
                       include_contacts: bool = False,
                       contacts: Mapping[str, Contact | Mapping[str, Any] | None] | None = None,
                       rows_per_page: int = ROWS_PER_PAGE, venue: str | None = None) -> str:
    """The printable sign-in sheet (签到表) as an HTML document.

    Args:
        shortlist: the shortlist (its event name and date head every page).
        schedule: the schedule (or None).
        talents: Talent records, or id → Talent.
        enterprises: Enterprise records, or id → Enterprise.
        include_contacts: full numbers in the 手机 column; otherwise masked (138****1234).
        contacts: talent id → contact; when None, a talent's own ``contact`` field is used.
        rows_per_page: rows before a page break.
        venue: the event's venue (heads every page with the date).

    Returns:
        The HTML text.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    look = _Lookup(shortlist, schedule, talents, enterprises, None)
    rows = []
    for entry in shortlist.entries:
        tid = entry.talent_id
        record = look.talents.get(tid)
        contact = _contact_of(record, contacts) if record else None
        rows.append({
            "no": look.number[tid], "name": look.talent(tid, "name") or tid,
            "organisation": look.talent(tid, "organisation"),
            "enterprises": SEP.join(look.enterprise(e) for e in entry.enterprises),
            "slots": "；".join(look.slots.get(tid, [])),
            "phone": ((contact.phone or "") if include_contacts else mask_phone(contact.phone))
            if contact else "",
        })
    size = max(1, rows_per_page)
    pages = [rows[i:i + size] for i in range(0, len(rows), size)] or [[]]
    headers = list(SIGNIN_HEADERS)
    headers.insert(-1, "手机")
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("signin.html").render(
        title=shortlist.event_name or shortlist.event_id, date=shortlist.event_date,
        total=len(rows), pages=pages, headers=headers, include_contacts=include_contacts,
        venue=venue)


def export_shortlist(shortlist: Any, schedule: Any, talents: Any, enterprises: Any,
                     path: str | Path, fmt: str | None = None, include_contacts: bool = False,
                     contacts: Mapping[str, Contact | Mapping[str, Any] | None] | None = None,
                     *, needs: Any = None, venue: str | None = None,
                     params: Mapping[str, Any] | None = None) -> Path:
    """Write an event's shortlist and schedule to ``path``.

    Args:
        shortlist: a :class:`matching.shortlist.Shortlist`.
        schedule: its :class:`matching.schedule.Schedule`.
        talents: Talent records (``TalentCreate`` carries contacts), or id → Talent.
        enterprises: Enterprise records, or id → Enterprise.
        path: the output file; its extension picks the format unless ``fmt`` is given.
        fmt: ``xlsx``, ``csv`` or ``html``.
        include_contacts: full contact data (only for callers allowed to see it).
        contacts: talent id → contact; when None, a talent's own ``contact`` field is used.
        needs: Need records, or id → Need, for need titles (else ids).
        venue: the event's venue (sign-in sheet).
        params: the shortlist's parameters (a 参数 sheet in XLSX; ``label → value``).

    Returns:
        The path written.

    Raises:
        ValueError: the format is not one of xlsx, csv, html.
    """
    path = Path(path)
    kind = _format(path, fmt)
    if kind == "html":
        text = render_signin_html(shortlist, schedule, talents, enterprises,
                                  include_contacts=include_contacts, contacts=contacts,
                                  venue=venue)
        path.write_text(text, encoding="utf-8")
        return path
    names = shortlist_frame(shortlist, schedule, talents, enterprises, needs=needs,
                            include_contacts=include_contacts, contacts=contacts)
    plan = schedule_frame(shortlist, schedule, talents, enterprises, needs=needs)
    if kind == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            neutralise_frame(names).to_csv(out, index=False)
            out.write(f"\r\n{SCHEDULE_SHEET}\r\n")
            neutralise_frame(plan).to_csv(out, index=False)
        return path
    frames = {LIST_SHEET: names, SCHEDULE_SHEET: plan}
    if params:
        frames[PARAMS_SHEET] = pd.DataFrame([[str(k), str(v)] for k, v in params.items()],
                                            columns=["参数", "取值"], dtype=object)
    write_sheets(frames, path)
    finish_workbook(path)
    return path


def finish_workbook(path: Path) -> None:
    """Make the workbook ready to filter and print: an autofilter on every sheet's table,
    wrapped long text (reasons, needs, slots), landscape A4 fitted to the page width."""
    from openpyxl import load_workbook
    from openpyxl.styles import Alignment

    wb = load_workbook(path)
    wrap = Alignment(wrap_text=True, vertical="top")
    for ws in wb.worksheets:
        if ws.max_row >= 1 and ws.max_column >= 1:
            ws.auto_filter.ref = ws.dimensions
        headers = [str(c.value or "") for c in ws[1]]
        for index, name in enumerate(headers, start=1):
            if name in WRAPPED:
                for row in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                    row[0].alignment = wrap
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"
    wb.save(path)


def _format(path: Path, fmt: str | None) -> str:
    """``xlsx``, ``csv`` or ``html`` from ``fmt`` or the extension."""
    if fmt is None and path.suffix.lower() in (".html", ".htm"):
        return "html"
    if fmt == "html":
        return fmt
    try:
        kind = detect_format(path, fmt)
    except ValueError as exc:
        raise ValueError(f"不支持的导出格式：{exc}；对接会名单可导出 xlsx、csv、html") from exc
    if kind not in ("xlsx", "csv"):
        raise ValueError(f"不支持的导出格式「{kind}」；对接会名单可导出 xlsx、csv、html")
    return kind

