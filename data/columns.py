"""The one table of import/export columns: record field ↔ Chinese header ↔ English header.

Import accepts either header (and the extra aliases); export writes the Chinese header by
default. Dotted fields (``contact.phone``, ``eligibility.min_title``) go into nested models.
List fields are written joined by ``、`` and read split on ``、，,;；|``. docs/data-format.md
renders this table; keep both in step.

Achievements (主要成果) in a flat file are one cell: items separated by ``；`` or a new line,
each item ``[类型：]标题[（年份）][——说明]``, e.g. ``论文：尼龙66纺丝工艺研究（2019）——发表于…``.
The 类型 is one of 论文 / 专利 / 项目 / 奖项 (paper / patent / project / award).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from data.records import Achievement


@dataclass(frozen=True)
class Column:
    """One column: the record field, its Chinese header, English header and aliases."""

    field: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    vocab: str | None = None  # taxonomy vocabulary that canonicalises the value
    private: bool = False  # contact data: exported only when asked for and allowed


def _c(field: str, zh: str, en: str, *aliases: str, vocab: str | None = None,
       private: bool = False) -> Column:
    return Column(field, zh, en, tuple(aliases), vocab, private)


CONTACT_COLUMNS = [
    _c("contact.phone", "手机", "phone", "手机号", "手机号码", "联系电话", "电话", "mobile",
       private=True),
    _c("contact.email", "邮箱", "email", "电子邮箱", "e-mail", private=True),
    _c("contact.wechat", "微信", "wechat", "微信号", private=True),
]

TALENT_COLUMNS = [
    _c("id", "人才编号", "id", "编号", "talent_id"),
    _c("name", "姓名", "name"),
    _c("city", "所属城市", "city", vocab="city"),
    _c("hometown_county", "籍贯", "hometown_county", "籍贯县区", "hometown", vocab="county"),
    _c("ties", "归根联系", "ties", "联系类型", vocab="tie"),
    _c("current_city", "现居城市", "current_city", "所在城市", "工作城市"),
    _c("organisation", "工作单位", "organisation", "单位", "organization"),
    _c("parent_organisation", "上级单位", "parent_organisation", "所属集团"),
    _c("title", "职称", "title"),
    _c("position", "职务", "position"),
    _c("degree", "学历", "degree", "学位"),
    _c("category", "人才类别", "category", "类别", vocab="category"),
    _c("level", "人才层次", "level", "层次", vocab="level"),
    _c("disciplines", "学科", "disciplines", "学科领域", "专业"),
    _c("research_directions", "研究方向", "research_directions", "专长", "研究领域"),
    _c("achievements", "主要成果", "achievements", "成果"),
    _c("chains", "产业链", "chains", "所属产业链", vocab="chain"),
    _c("intent", "回乡意愿", "intent", "引进方式", "合作意向", vocab="intent"),
    _c("months_per_year", "每年可在平月数", "months_per_year", "每年可在岗月数", "在平月数"),
    _c("nationality", "国籍", "nationality"),
    _c("avoid", "回避", "avoid", "回避名单"),
    _c("relatives", "亲属关系", "relatives", "亲属"),
    _c("led_projects", "主持项目数", "led_projects"),
    _c("updated_at", "更新时间", "updated_at"),
    _c("source", "来源", "source"),
    *CONTACT_COLUMNS,
]

ENTERPRISE_COLUMNS = [
    _c("id", "企业编号", "id", "编号", "enterprise_id"),
    _c("name", "企业名称", "name", "单位名称"),
    _c("city", "所属城市", "city", vocab="city"),
    _c("county", "所在县区", "county", "县（市、区）", "县区", vocab="county"),
    _c("chains", "产业链", "chains", vocab="chain"),
    _c("parent_company", "母公司", "parent_company", "上级公司"),
    _c("description", "企业简介", "description", "简介"),
    _c("updated_at", "更新时间", "updated_at"),
    *CONTACT_COLUMNS,
]

NEED_COLUMNS = [
    _c("id", "需求编号", "id", "编号", "need_id"),
    _c("enterprise_id", "企业编号", "enterprise_id"),
    _c("kind", "需求类型", "kind", "类型", vocab="need_kind"),
    _c("title", "需求名称", "title", "标题", "名称"),
    _c("description", "需求描述", "description", "描述", "需求内容"),
    _c("required_expertise", "所需专长", "required_expertise", "专业要求", "技术领域"),
    _c("chain", "产业链", "chain", vocab="chain"),
    _c("city", "所属城市", "city", vocab="city"),
    _c("county", "所在县区", "county", "县（市、区）", "县区", vocab="county"),
    _c("budget", "预算（万元）", "budget", "预算", "经费（万元）"),
    _c("deadline", "截止日期", "deadline"),
    _c("status", "状态", "status"),
    _c("min_months", "每年在平月数要求", "min_months"),
    _c("full_time", "需全职", "full_time", "全职"),
    _c("min_title", "职称要求", "min_title", vocab="title"),
    _c("min_level", "层次要求", "min_level", vocab="level"),
    _c("avoid", "回避", "avoid", "回避名单"),
    _c("contact_person", "联系人", "contact_person", "需求联系人"),
    _c("updated_at", "更新时间", "updated_at"),
]

CHALLENGE_COLUMNS = [
    *NEED_COLUMNS,
    _c("list_no", "榜单编号", "list_no"),
    _c("funding", "榜单金额（万元）", "funding", "榜单金额", "揭榜金额（万元）"),
    _c("eligibility.min_title", "揭榜职称要求", "eligibility_min_title", vocab="title"),
    _c("eligibility.min_level", "揭榜层次要求", "eligibility_min_level", vocab="level"),
    _c("eligibility.min_months_on_site", "揭榜在平月数要求", "eligibility_min_months_on_site"),
    _c("eligibility.nationalities", "国籍要求", "eligibility_nationalities"),
    _c("eligibility.regions", "地区要求", "eligibility_regions"),
]

PROJECT_COLUMNS = [
    _c("id", "项目编号", "id", "编号", "project_id"),
    _c("name", "项目名称", "name"),
    _c("status", "项目状态", "status", vocab="project_status"),
    _c("amount", "投资额（万元）", "amount", "金额（万元）", "投资额"),
    _c("city", "所属城市", "city", vocab="city"),
    _c("county", "所在县区", "county", "县区", vocab="county"),
    _c("chain", "产业链", "chain", vocab="chain"),
    _c("enterprise_id", "企业编号", "enterprise_id"),
    _c("talent_ids", "关联人才", "talent_ids", "关联人才编号"),
    _c("description", "项目简介", "description", "简介"),
    _c("updated_at", "更新时间", "updated_at"),
]

COLUMNS: dict[str, list[Column]] = {
    "talents": TALENT_COLUMNS,
    "enterprises": ENTERPRISE_COLUMNS,
    "needs": NEED_COLUMNS,
    "challenges": CHALLENGE_COLUMNS,
    "projects": PROJECT_COLUMNS,
}
"""Columns per importable entity."""

NATIONAL_ID_HEADERS = ("身份证号", "身份证", "身份证号码", "公民身份号码", "证件号码",
                       "id_card", "idcard", "national_id", "id_number")
"""Headers of national ID numbers: a file carrying one is refused (never stored)."""

_ACH_KINDS = {"论文": "paper", "专利": "patent", "项目": "project", "奖项": "award",
              "获奖": "award", "其他": "other"}
_ACH_LABELS = {"paper": "论文", "patent": "专利", "project": "项目", "award": "奖项",
               "other": "其他"}
_ACH_RE = re.compile(
    r"^(?:(?P<kind>论文|专利|项目|奖项|获奖|其他)[：:])?\s*(?P<title>.+?)"
    r"(?:[（(]\s*(?P<year>[0-9０-９〇○零一二三四五六七八九]{4,6})\s*年?\s*[)）])?"
    r"(?:——(?P<text>.*))?$"
)
_CN_DIGITS = {ch: str(i) for i, ch in enumerate("〇一二三四五六七八九")} | {"○": "0", "零": "0"}


class AchievementYearError(ValueError):
    """A 主要成果 item whose year in brackets is not a four-digit year (e.g. （20199））."""


def parse_year(text: str) -> int:
    """A bracketed year as written: ``2019``, ``２０１９`` or ``二〇一九`` → 2019.

    Args:
        text: four to six digits, Arabic (half- or full-width) or Chinese (〇一二…九, 零).

    Returns:
        The year.

    Raises:
        AchievementYearError: not exactly four digits (``20199``), in Chinese.
    """
    digits = "".join(_CN_DIGITS.get(ch, ch) for ch in unicodedata.normalize("NFKC", text))
    if len(digits) != 4 or not digits.isdigit():
        raise AchievementYearError(f"年份「{text}」无效：应为四位年份，如（2019）或（二〇一九）")
    return int(digits)


def parse_achievements(cell: Any) -> list[dict[str, Any]]:
    """Parse a 主要成果 cell into achievement dicts.

    Args:
        cell: the cell text, a list (JSON Lines), or None.

    Returns:
        A list of dicts with kind, title, text and year, ready for :class:`Achievement`.
        A year is written in brackets after the title: ``（2019）``, ``（2019年）`` or
        ``（二〇一九）``.

    Raises:
        AchievementYearError: a bracketed year of 5 or 6 digits (``（20199）``), naming the item.
    """
    if cell is None or cell == "":
        return []
    if isinstance(cell, list):
        return [a if isinstance(a, dict) else {"title": str(a)} for a in cell]
    out: list[dict[str, Any]] = []
    for part in re.split(r"[；;\n]+", str(cell)):
        part = part.strip()
        if not part:
            continue
        m = _ACH_RE.match(part)
        if m is None:  # pragma: no cover - the pattern matches any non-empty text
            out.append({"title": part})
            continue
        try:
            year = parse_year(m.group("year")) if m.group("year") else None
        except AchievementYearError as exc:
            raise AchievementYearError(f"第 {len(out) + 1} 项：{exc}") from None
        out.append({
            "kind": _ACH_KINDS.get(m.group("kind") or "其他", "other"),
            "title": m.group("title").strip(),
            "text": (m.group("text") or "").strip(),
            "year": year,
        })
    return out


def format_achievements(items: list[Achievement]) -> str:
    """Render achievements as one 主要成果 cell (the inverse of :func:`parse_achievements`)."""
    parts = []
    for a in items:
        text = f"{_ACH_LABELS.get(a.kind, '其他')}：{a.title}"
        if a.year:
            text += f"（{a.year}）"
        if a.text:
            text += f"——{a.text}"
        parts.append(text)
    return "；".join(parts)
