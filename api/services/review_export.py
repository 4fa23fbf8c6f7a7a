"""The 资智结对名单 (issue #13 §1) and the audit export (§5): XLSX with a cover sheet and a
list sheet, CSV with a UTF-8 BOM, and an A4-landscape print view.

Rows are the suggestions a caller may see, filtered by pairing run, period, work group and
status; each carries the latest decision with its reason and time in Beijing time
(Asia/Shanghai). Contact columns are added only for admins, and only when asked for.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from api.services import cities
from api.services.errors import Forbidden, Invalid
from api.services.review import GROUP_LABELS, STATUS_LABELS, group_for, queue
from api.services.types import FileDownload, JSONObject, User
from data.io.formulas import neutralise

if TYPE_CHECKING:
    from api.application import Application

TZ_LABEL = "北京时间（Asia/Shanghai）"
FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}
LIST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("seq", "序号"), ("need_id", "需求编号"), ("need_title", "需求"), ("enterprise_name", "企业"),
    ("county", "县区"), ("chain", "产业链"), ("talent_id", "人才编号"), ("talent_name", "人才"),
    ("category", "人才类别"), ("score", "得分"), ("group", "工作小组"), ("status", "审核决定"),
    ("reason", "理由"), ("actor", "审核人"), ("decided_at", f"决定时间（{TZ_LABEL}）"),
    ("run_id", "结对运行"))
CONTACT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("talent_phone", "人才手机"), ("talent_email", "人才邮箱"),
    ("enterprise_phone", "企业电话"), ("enterprise_email", "企业邮箱"))
AUDIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("at", f"时间（{TZ_LABEL}）"), ("actor", "审核人"), ("suggestion_id", "推荐"),
    ("need_title", "需求"), ("talent_name", "人才"), ("group", "工作小组"),
    ("from", "原状态"), ("to", "新状态"), ("reason", "理由"))


def beijing_tz() -> dt.tzinfo:
    """Asia/Shanghai (UTC+8 without daylight saving; a fixed offset when tzdata is absent)."""
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Shanghai")
    except Exception:  # no tz database on this machine: China keeps UTC+8 all year
        return dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def beijing(value: str | dt.datetime | None) -> str:
    """An ISO time (UTC or aware) as Beijing wall time ``YYYY-MM-DD HH:MM:SS`` ("" if none)."""
    if not value:
        return ""
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(beijing_tz()).strftime("%Y-%m-%d %H:%M:%S")


def _day(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(f"{name} 须为日期 YYYY-MM-DD（收到「{value}」）") from exc


@dataclass
class PairList:
    """The filtered 资智结对名单: its rows and what the cover sheet says."""

    rows: list[JSONObject]
    cover: list[tuple[str, str]]
    counts: dict[str, int] = field(default_factory=dict)
    contacts: bool = False

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """The list sheet's columns (contacts appended when included)."""
        return LIST_COLUMNS + (CONTACT_COLUMNS if self.contacts else ())


def pair_list(app: Application, user: User, *, run_id: str | None = None,
              group: str | None = None, status: str | None = None,
              date_from: str | None = None, date_to: str | None = None,
              contacts: bool = False, chain: str | None = None, county: str | None = None,
              q: str | None = None) -> PairList:
    """The 资智结对名单 as ``user`` may see it.

    Args:
        app: the application.
        user: the caller (reviewers: their own work group).
        run_id: only this pairing run.
        group: work group.
        status: proposed / approved / rejected / deferred.
        date_from: first day (Beijing) of the period: a pair's latest decision, or its run's
            creation when undecided, on or after it.
        date_to: last day of the period (inclusive).
        contacts: add the talents' and enterprises' contacts (admins only).
        chain: the need's chain. county: the need's county. q: words as in the queue.

    Raises:
        Forbidden: contacts asked for by a role other than admin (403).
        Invalid: a bad date or filter (422).
    """
    if contacts and user.role != "admin":
        raise Forbidden("只有管理员可以导出联系方式：请去掉 contacts=true")
    if status and status not in STATUS_LABELS:
        raise Invalid(f"未知状态 status「{status}」；可选：{'、'.join(STATUS_LABELS)}")
    first, last = _day(date_from, "date_from"), _day(date_to, "date_to")
    items = queue(app, user, group=group, status=status, chain=chain, county=county, q=q,
                  run_id=run_id or None)
    store = app.store
    latest = {d.suggestion_id: d for d in store.decisions()}
    runs = {str(r["id"]): r.get("created_at") for r in store.runs("pairing")}
    categories = {tid: str(getattr(t, "category", "")) for tid, t in store.get_many(
        "talents", list({str(r["talent_id"]) for r in items})).items()}
    rows: list[JSONObject] = []
    for item in items:
        decision = latest.get(str(item["id"]))
        when = decision.at if decision else runs.get(str(item.get("run_id") or ""))
        day = when.astimezone(beijing_tz()).date() if when else None
        if (first and (day is None or day < first)) or (last and (day is None or day > last)):
            continue
        rows.append({
            "seq": len(rows) + 1, "id": item["id"], "need_id": item["need_id"],
            "need_title": item["need_title"], "enterprise_name": item["enterprise_name"],
            "county": item["county"] or "", "chain": item["chain"] or "",
            "talent_id": item["talent_id"], "talent_name": item["talent_name"],
            "category": categories.get(str(item["talent_id"]), ""),
            "score": round(float(item["score"] or 0), 4),  # type: ignore[arg-type]
            "group": GROUP_LABELS.get(str(item["work_group"]), str(item["work_group"])),
            "status": STATUS_LABELS.get(str(item["status"]), str(item["status"])),
            "reason": decision.reason if decision else "",
            "actor": decision.actor if decision else "",
            "decided_at": beijing(decision.at) if decision else "",
            "run_id": item.get("run_id") or "", "enterprise_id": item.get("enterprise_id"),
            "need_print": f"{item['need_title']}（{item['need_id']}）",
            "talent_print": f"{item['talent_name']}（{item['talent_id']}）"})
    if contacts:
        _add_contacts(app, rows)
    counts = Counter(str(r["status"]) for r in rows)
    shown_group = group_for(user, group)
    cover = [
        ("城市", cities.home(app, user)),
        ("工作小组", GROUP_LABELS.get(shown_group or "", "全部工作小组")),
        ("结对运行", run_id or "全部运行"),
        ("时间范围", f"{date_from or '不限'} 至 {date_to or '不限'}（{TZ_LABEL}）"),
        ("状态筛选", STATUS_LABELS.get(status or "", "全部状态")),
        *((f"{label}（条）", str(counts.get(label, 0))) for label in STATUS_LABELS.values()),
        ("合计（条）", str(len(rows))),
        ("含联系方式", "是（仅限管理员，注意保密）" if contacts else "否"),
        ("导出人", user.username),
        ("导出时间", f"{beijing(dt.datetime.now(dt.UTC))}（{TZ_LABEL}）"),
    ]
    return PairList(rows, cover, dict(counts), contacts)


def _add_contacts(app: Application, rows: list[JSONObject]) -> None:
    store = app.store
    for r in rows:
        tc = store.get_contact("talents", str(r["talent_id"]))
        ec = store.get_contact("enterprises", str(r["enterprise_id"])) \
            if r.get("enterprise_id") else None
        r.update(talent_phone=getattr(tc, "phone", "") or "",
                 talent_email=getattr(tc, "email", "") or "",
                 enterprise_phone=getattr(ec, "phone", "") or "",
                 enterprise_email=getattr(ec, "email", "") or "")


# -- files ----------------------------------------------------------------------------------
def write_xlsx(path: Path, title: str, cover: list[tuple[str, str]],
               columns: tuple[tuple[str, str], ...], rows: list[JSONObject],
               sheet: str = "名单") -> None:
    """A workbook: a cover sheet (封面) and the list sheet, print-ready (A4 landscape)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "封面"
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=16)
    for i, (key, value) in enumerate(cover, start=3):
        ws.cell(i, 1, key).font = Font(bold=True)
        ws.cell(i, 2, neutralise(value))
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 60
    body = wb.create_sheet(sheet)
    body.append([label for _, label in columns])
    for cell in body[1]:
        cell.font = Font(bold=True)
    for r in rows:
        body.append([neutralise(r.get(key, "")) for key, _ in columns])
    wide = {"need_title": 30, "reason": 36, "enterprise_name": 22, "decided_at": 20, "at": 20}
    for j, (key, _) in enumerate(columns, start=1):
        body.column_dimensions[get_column_letter(j)].width = wide.get(key, 12)
        if key in ("need_title", "reason"):
            for row in body.iter_rows(min_row=2, min_col=j, max_col=j):
                row[0].alignment = Alignment(wrap_text=True, vertical="top")
    body.freeze_panes = "A2"
    body.auto_filter.ref = body.dimensions
    for sh in (ws, body):
        sh.page_setup.orientation = "landscape"
        sh.page_setup.paperSize = sh.PAPERSIZE_A4
        sh.page_setup.fitToWidth = 1
        sh.page_setup.fitToHeight = 0
        sh.sheet_properties.pageSetUpPr.fitToPage = True
    body.print_title_rows = "1:1"
    wb.save(path)


def write_csv(path: Path, columns: tuple[tuple[str, str], ...], rows: list[JSONObject]) -> None:
    """CSV with a UTF-8 BOM (Excel opens it in Chinese), formula-like cells neutralised."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([label for _, label in columns])
        for r in rows:
            writer.writerow([neutralise(r.get(key, "")) for key, _ in columns])


PRINT_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("seq", "序号", 4), ("need_print", "需求", 17), ("enterprise_name", "企业", 12),
    ("county", "县区", 6), ("chain", "产业链", 7), ("talent_print", "人才", 7),
    ("category", "人才类别", 8), ("score", "得分", 5), ("status", "审核决定", 6),
    ("reason", "理由", 13), ("actor", "审核人", 5), ("decided_at", "决定时间（北京时间）", 10))
"""The print view's columns and their widths (% of the A4-landscape width)."""


def print_html(title: str, cover: list[tuple[str, str]], columns: tuple[tuple[str, str], ...],
               rows: list[JSONObject], *, signature: bool = True,
               widths: dict[str, int] | None = None) -> str:
    """A print view on A4 landscape with a signature block for the bureau."""
    esc = html.escape
    cols = "".join(f"<col style='width:{(widths or {}).get(k, 6)}%'>" for k, _ in columns)
    head = "".join(f"<th>{esc(label)}</th>" for _, label in columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(str(r.get(k, '')))}</td>" for k, _ in columns)
                   + "</tr>" for r in rows) or \
        f"<tr><td colspan='{len(columns)}'>无符合条件的记录</td></tr>"
    meta = "".join(f"<div><b>{esc(k)}</b>：{esc(v)}</div>" for k, v in cover)
    sign = ("<div class='sign'><span>工作小组负责人（签字）：</span><span>单位（盖章）：</span>"
            "<span>日期：</span></div>") if signature else ""
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{esc(title)}</title><style>
@page {{ size: A4 landscape; margin: 12mm; }}
body {{ font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif;
  font-size: 10pt; color: #000; margin: 0 auto; max-width: 273mm; }}
h1 {{ text-align: center; font-size: 16pt; margin: 0 0 6pt; }}
.meta {{ display: grid; grid-template-columns: repeat(3, 1fr); gap: 2pt 12pt; margin-bottom: 8pt; }}
table {{ width: 100%; border-collapse: collapse; table-layout: fixed; }}
th, td {{ border: 1px solid #444; padding: 2pt 3pt; vertical-align: top;
  overflow-wrap: anywhere; }}
th {{ background: #eee; }} thead {{ display: table-header-group; }} tr {{ break-inside: avoid; }}
.sign {{ display: flex; justify-content: space-between; margin-top: 24pt; }}
.sign span {{ width: 30%; border-bottom: 1px solid #000; padding-bottom: 18pt; }}
@media screen {{ body {{ padding: 12px; }} }}
</style></head><body><h1>{esc(title)}</h1><div class="meta">{meta}</div>
<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{sign}</body></html>"""


def _file(fmt: str, stem: str) -> tuple[Path, Path]:
    if fmt not in FORMATS:
        raise Invalid(f"format 须为 {'、'.join(FORMATS)}")
    folder = Path(tempfile.mkdtemp(prefix="tm-pairs-"))
    return folder, folder / f"{stem}.{fmt}"


def title_of(app: Application, listing: PairList) -> str:
    """「平顶山市 资智结对名单（技术回归）」."""
    cover = dict(listing.cover)
    group = cover.get("工作小组", "")
    return f"{cover.get('城市') or app.settings.city}市 资智结对名单（{group}）"


def pair_list_file(app: Application, user: User, fmt: str, **filters: str | bool | None
                   ) -> FileDownload:
    """The 资智结对名单 as a temporary xlsx / csv / html file (removed after sending).

    Args:
        app: the application.
        user: the caller.
        fmt: xlsx, csv or html (the print view).
        filters: the keyword arguments of :func:`pair_list`.
    """
    folder, out = _file(fmt, "zizhi_jiedui")
    listing = pair_list(app, user, **filters)  # type: ignore[arg-type]
    write_pair_list(app, listing, out, fmt)
    stamp = dt.datetime.now(beijing_tz()).strftime("%Y%m%d")
    return FileDownload(out, FORMATS[fmt], f"资智结对名单_{stamp}.{fmt}", cleanup=folder)


CLI_USER = User(id="cli", username="cli", role="admin")
"""The caller of ``talentmatch pair export`` (the operator on the server: every group)."""


def export_to(app: Application, out: Path, **filters: str | bool | None) -> PairList:
    """``talentmatch pair export``: the 资智结对名单 into ``out`` (format from its suffix:
    .xlsx, .csv or .html); the listing written.

    Raises:
        Invalid: another suffix (422).
    """
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise Invalid(f"输出文件须以 .xlsx、.csv 或 .html 结尾（收到「{out.name}」）")
    listing = pair_list(app, CLI_USER, **filters)  # type: ignore[arg-type]
    out.parent.mkdir(parents=True, exist_ok=True)
    write_pair_list(app, listing, out, fmt)
    return listing


def write_pair_list(app: Application, listing: PairList, out: Path, fmt: str) -> None:
    """Write ``listing`` to ``out`` in ``fmt`` (xlsx, csv or html)."""
    title = title_of(app, listing)
    if fmt == "xlsx":
        write_xlsx(out, title, listing.cover, listing.columns, listing.rows)
    elif fmt == "csv":
        write_csv(out, listing.columns, listing.rows)
    else:
        columns = tuple((k, label) for k, label, _ in PRINT_COLUMNS)
        if listing.contacts:
            columns += (("talent_phone", "人才手机"), ("enterprise_phone", "企业电话"))
        widths = {k: w for k, _, w in PRINT_COLUMNS} | {"talent_phone": 8, "enterprise_phone": 8}
        out.write_text(print_html(title, listing.cover, columns, listing.rows, widths=widths),
                       encoding="utf-8")


# -- audit ----------------------------------------------------------------------------------
def audit_rows(app: Application, user: User, *, actor: str | None = None,
               group: str | None = None, to_status: str | None = None,
               date_from: str | None = None, date_to: str | None = None,
               q: str | None = None, limit: int = 200, offset: int = 0) -> list[JSONObject]:
    """The audit trail with need titles, talent names and Beijing times, filtered.

    Args:
        app: the application.
        user: the caller (reviewers: their work group).
        actor: only this reviewer's decisions.
        group: work group (admins; a reviewer's own group only).
        to_status: only decisions to this status.
        date_from: first day (Beijing). date_to: last day (inclusive).
        q: words in the need title, the talent name or the suggestion id.
        limit: at most this many rows. offset: rows to skip.
    """
    if to_status and to_status not in STATUS_LABELS:
        raise Invalid(f"未知状态「{to_status}」；可选：{'、'.join(STATUS_LABELS)}")
    first, last = _day(date_from, "date_from"), _day(date_to, "date_to")
    rows = app.store.audit(actor=actor or None, work_group=group_for(user, group or None),
                           city=cities.scope(user), limit=1_000_000)
    needs: dict[str, str] = {}
    for entity in ("needs", "challenges"):
        needs.update({k: str(getattr(v, "title", "")) for k, v in app.store.get_many(
            entity, list({str(r["need_id"]) for r in rows})).items()})
    talents = {k: str(getattr(v, "name", "")) for k, v in app.store.get_many(
        "talents", list({str(r["talent_id"]) for r in rows})).items()}
    words = (q or "").lower().split()
    out: list[JSONObject] = []
    for r in rows:
        if to_status and r.get("to_status") != to_status:
            continue
        when = dt.datetime.fromisoformat(str(r["at"])).astimezone(beijing_tz())
        if (first and when.date() < first) or (last and when.date() > last):
            continue
        item: JSONObject = {
            "at": when.strftime("%Y-%m-%d %H:%M:%S"), "actor": r["actor"],
            "suggestion_id": r["suggestion_id"], "need_id": r["need_id"],
            "need_title": needs.get(str(r["need_id"]), ""), "talent_id": r["talent_id"],
            "talent_name": talents.get(str(r["talent_id"]), ""),
            "group": GROUP_LABELS.get(str(r["work_group"]), str(r["work_group"])),
            "from": STATUS_LABELS.get(str(r.get("from_status")), str(r.get("from_status") or "—")),
            "to": STATUS_LABELS.get(str(r.get("to_status")), str(r.get("to_status") or "—")),
            "to_status": r.get("to_status"), "reason": r["reason"]}
        if words:
            text = f"{item['need_title']} {item['talent_name']} {item['suggestion_id']}".lower()
            if not all(w in text for w in words):
                continue
        out.append(item)
    return out[offset:offset + limit]


def audit_file(app: Application, user: User, fmt: str, **filters: str | None) -> FileDownload:
    """The filtered audit trail as a temporary xlsx or csv file."""
    if fmt not in ("xlsx", "csv"):
        raise Invalid("format 须为 xlsx 或 csv")
    folder, out = _file(fmt, "audit")
    rows = audit_rows(app, user, limit=1_000_000, **filters)  # type: ignore[arg-type]
    if fmt == "xlsx":
        cover = [("城市", cities.home(app, user)), ("导出人", user.username),
                 ("导出时间", f"{beijing(dt.datetime.now(dt.UTC))}（{TZ_LABEL}）"),
                 ("记录数", str(len(rows))),
                 *((k, str(v)) for k, v in filters.items() if v)]
        write_xlsx(out, f"{cities.home(app, user)}市 审核记录", cover, AUDIT_COLUMNS, rows, "审计记录")
    else:
        write_csv(out, AUDIT_COLUMNS, rows)
    return FileDownload(out, FORMATS[fmt], f"审计记录.{fmt}", cleanup=folder)


def csv_text(columns: tuple[tuple[str, str], ...], rows: list[JSONObject]) -> str:
    """The CSV text (no BOM) of ``rows`` (for tests and the CLI's stdout)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([label for _, label in columns])
    for r in rows:
        writer.writerow([r.get(k, "") for k, _ in columns])
    return buf.getvalue()
