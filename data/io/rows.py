"""Turn one row of an import file into a validated record, or into row errors.

Row numbers are what a user sees in the spreadsheet: the header is row 1 and the first data
row is row 2 (CSV and XLSX). In JSON Lines there is no header, so the row number is the line
number (first line = 1). All problems of a row are reported, not only the first.

Per cell: an empty cell leaves the field absent (the record default applies); list fields are
split on ``、，,;；|``; 主要成果 goes through :func:`data.columns.parse_achievements`;
columns with a taxonomy vocabulary are canonicalised by :mod:`data.normalise` (county and
chain in the row's own city when the row names one, else the import's default city); 是/否 cells become booleans and
``2024/5/1`` or ``2024年5月1日`` become ISO dates. Then the entity model validates the record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import ValidationError

from data.columns import COLUMNS, AchievementYearError, Column, parse_achievements
from data.io.formulas import restore
from data.io.headers import HeaderMap, model_of
from data.io.natural_keys import derive_id, describe, fold
from data.normalise import LIST_SPLIT, canonical, canonical_cell, field_kind
from data.records import Record
from data.taxonomy import Taxonomy, UnknownValueError

MAX_VALUE_CHARS = 40
_TRUE = {"是", "true", "t", "yes", "y", "1", "√", "✓", "有", "需要", "on"}
_FALSE = {"否", "false", "f", "no", "n", "0", "×", "✗", "无", "不需要", "off"}
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(.*)$")


@dataclass(frozen=True)
class RowError:
    """One problem in one row.

    Attributes:
        row: the row number as a user sees it (header = row 1, first data row = row 2;
            JSON Lines: the line number).
        field: the column header as written in the file.
        reason: what is wrong, in Chinese.
        value: the offending cell, truncated to about 40 characters.
        record_field: the record field (``contact.phone`` …), for programs.
    """

    row: int
    field: str
    reason: str
    value: str = ""
    record_field: str = ""

    def __str__(self) -> str:
        where = f"「{self.field}」" if self.field else ""
        if self.record_field and self.record_field != self.field:
            where += f"（{self.record_field}）"
        shown = f"（值：「{self.value}」）" if self.value else ""
        return f"第 {self.row} 行{where}：{self.reason}{shown}"

    def to_dict(self) -> dict[str, Any]:
        """The error as a JSON-ready dict."""
        return asdict(self)


def truncate(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """``value`` as text of at most ``limit`` characters (an ellipsis marks a cut)."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_empty(value: Any) -> bool:
    """True for None, blank strings, empty lists/dicts and NaN."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, dict)):
        return len(value) == 0
    return isinstance(value, float) and value != value


def split_list(value: Any) -> list[Any]:
    """A list cell as items: a list as is, a string split on ``、，,;；|`` and new lines."""
    items = list(value) if isinstance(value, (list, tuple)) else LIST_SPLIT.split(str(value))
    return [i.strip() if isinstance(i, str) else i for i in items if not is_empty(i)]


def _put(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data["a"]["b"] = value`` for ``dotted == "a.b"``."""
    *parents, last = dotted.split(".")
    for part in parents:
        if not isinstance(data.get(part), dict):
            data[part] = {}
        data = data[part]
    if isinstance(value, dict) and isinstance(data.get(last), dict):
        data[last] = {**value, **data[last]}
    else:
        data[last] = value


class _CellError(Exception):
    """A cell that cannot be converted; ``args[0]`` is the Chinese reason."""


class RowConverter:
    """Converts the rows of one file into records of one entity.

    Args:
        entity: the entity name (``talents`` …).
        headers: the file's :class:`HeaderMap`.
        taxonomy: the vocabularies that canonicalise categorical values.
        city: the canonical default city, for rows that name none.
        first_row: the row number of the first data row (see the module docstring).
        only_city: rows naming another city than ``city`` are errors (the import of a
            city-scoped account, issue #14 item 3).
    """

    def __init__(self, entity: str, headers: HeaderMap, taxonomy: Taxonomy, city: str,
                 first_row: int = 2, only_city: bool = False) -> None:
        self.entity = entity
        self.only_city = only_city
        self.model = model_of(entity)
        self.headers = headers
        self.taxonomy = taxonomy
        self.city = city
        self.first_row = first_row
        self.kinds = {c.field: field_kind(self.model, c.field) for c in headers.columns.values()}
        self.id_header = headers.header_of("id")
        self._seen_ids: dict[str, int] = {}
        self._order = {header: i for i, header in enumerate(headers.columns)}
        self._names: dict[str, tuple[int, str]] = {}
        self.possible_duplicates: list[str] = []
        """Rows whose natural key differs from an earlier row of the same name (Chinese)."""

    def row_number(self, index: int) -> int:
        """The user-visible row number of the ``index``-th data row (0-based)."""
        return self.first_row + index

    def convert(self, row: int, cells: Mapping[str, Any]) -> tuple[Record | None, list[RowError]]:
        """Convert one row.

        Args:
            row: the user-visible row number.
            cells: file header → cell value.

        Returns:
            ``(record, [])`` for a good row, ``(None, errors)`` for a bad one.
        """
        errors: list[RowError] = []
        city = self._row_city(row, cells, errors)
        data: dict[str, Any] = {}
        for header, column in self.headers.columns.items():
            value = cells.get(header)
            if is_empty(value) or column.field == "city":
                continue
            try:
                _put(data, column.field, self._cell(column, value, city))
            except _CellError as exc:
                errors.append(self._error(row, header, column, str(exc.args[0]), value))
        if "city" in self.model.model_fields:
            data["city"] = city
        if self.headers.natural_key:
            errors.extend(self._natural_id(row, data, cells))
        errors.extend(self._duplicate(row, cells))
        record = self._validate(row, data, cells, errors)
        if record is not None and not errors:
            return record, []
        return None, sorted(errors, key=lambda e: self._order.get(e.field, len(self._order)))

    def _row_city(self, row: int, cells: Mapping[str, Any], errors: list[RowError]) -> str:
        """The row's canonical city, or the default city (with an error when unknown)."""
        header = self.headers.header_of("city")
        value = cells.get(header) if header else None
        if header is None or is_empty(value):
            return self.city
        try:
            named = canonical(self.taxonomy, "city", str(value).strip(), None)
        except UnknownValueError as exc:
            errors.append(self._error(row, header, self.headers.columns[header], str(exc), value))
            return self.city
        if self.only_city and named != self.city:
            errors.append(self._error(row, header, self.headers.columns[header],
                                      f"只能导入「{self.city}」的数据，不能导入「{named}」的数据",
                                      value))
        return named

    def _cell(self, column: Column, value: Any, city: str) -> Any:
        """Convert one non-empty cell; raise :class:`_CellError` with a Chinese reason."""
        value = restore(value)  # undo the export's formula neutralisation ('=…)
        kind = self.kinds[column.field]
        if kind == "achievements":
            try:
                return parse_achievements(value)
            except AchievementYearError as exc:
                raise _CellError(str(exc)) from exc
        if kind == "list":
            items = split_list(value)
            return self._resolve(column.vocab, items, city) if column.vocab else items
        if isinstance(value, str):
            value = value.strip()
        if column.vocab:
            return self._resolve(column.vocab, str(value), city)
        if kind == "bool":
            return _to_bool(value)
        if kind in ("date", "datetime"):
            return _to_date_text(value)
        return value

    def _resolve(self, vocab: str, value: Any, city: str) -> Any:
        """Canonical taxonomy value(s) (:func:`data.normalise.canonical_cell`), or
        :class:`_CellError` listing the accepted ones."""
        try:
            return canonical_cell(self.taxonomy, vocab, value, city)
        except UnknownValueError as exc:
            raise _CellError(str(exc)) from exc

    def _natural_id(self, row: int, data: dict[str, Any],
                    cells: Mapping[str, Any]) -> list[RowError]:
        """Derive the id of a row in a file without id column; errors for clashes."""
        id_header = self._zh_header("id")
        derived = derive_id(self.entity, data)
        if derived is None:
            return [RowError(row, id_header, f"文件没有编号列，本行缺少生成编号所需的值"
                             f"（{describe(self.entity)}）", "", "id")]
        key_id, key = derived
        data["id"] = key_id
        name_header = self.headers.header_of(key.fields[0]) or key.fields[0]
        first = self._seen_ids.setdefault(key_id, row)
        if first != row:
            return [RowError(row, name_header, f"{key.label}与第 {first} 行相同（重复记录），"
                             "本行未导入", truncate(cells.get(name_header)), key.fields[0])]
        name = data.get(key.fields[0])
        if name is not None and len(key.fields) > 1:
            earlier = self._names.setdefault(fold(key.fields[0], name), (row, key_id))
            if earlier[1] != key_id:
                self.possible_duplicates.append(
                    f"第 {row} 行与第 {earlier[0]} 行{name_header}相同（「{truncate(name)}」）但"
                    f"{key.label}不同：可能是同一人，已按两条记录导入，请核对")
        return []

    def _duplicate(self, row: int, cells: Mapping[str, Any]) -> list[RowError]:
        """An error when this row's id was already used by an earlier row of the file."""
        if self.id_header is None or is_empty(cells.get(self.id_header)):
            return []
        key = str(cells[self.id_header]).strip()
        first = self._seen_ids.setdefault(key, row)
        if first == row:
            return []
        column = self.headers.columns[self.id_header]
        return [self._error(row, self.id_header, column, f"编号与第 {first} 行重复", key)]

    def _validate(self, row: int, data: dict[str, Any], cells: Mapping[str, Any],
                  errors: list[RowError]) -> Record | None:
        """Validate with the entity model; add errors for fields not already reported."""
        try:
            return self.model.model_validate(data)
        except ValidationError as exc:
            reported = {e.record_field for e in errors}
            for err in exc.errors():
                path = _path(err["loc"])
                header = self.headers.header_of(path) or self.headers.header_of(
                    path.split(".")[0])
                if path in reported or (header and self.headers.columns[header].field in reported):
                    continue
                value = cells.get(header) if header else err.get("input")
                shown = header or self._zh_header(path)
                reason = _reason(err)
                item = next((p for p in err["loc"] if isinstance(p, int)), None)
                if item is not None:
                    reason = f"第 {item + 1} 项：{reason}"
                errors.append(RowError(row, shown, reason, truncate(value), path))
            return None

    def _zh_header(self, path: str) -> str:
        """The Chinese header of a record field that is not in the file."""
        for column in COLUMNS[self.entity]:
            if column.field == path:
                return column.zh
        return path

    @staticmethod
    def _error(row: int, header: str, column: Column, reason: str, value: Any) -> RowError:
        return RowError(row, header, reason, truncate(value), column.field)


def _to_bool(value: Any) -> bool:
    """是/否, true/false, 1/0 … as a bool."""
    if isinstance(value, bool):
        return value
    key = str(value).strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise _CellError("应填「是」或「否」")


def _to_date_text(value: Any) -> Any:
    """``2024/5/1``, ``2024.5.1`` or ``2024年5月1日`` → ``2024-05-01`` (rest kept)."""
    if not isinstance(value, str):
        return value
    m = _DATE.match(value)
    if m is None:
        return value
    year, month, day, rest = m.groups()
    rest = rest.strip().lstrip("Tt").strip()
    return f"{year}-{int(month):02d}-{int(day):02d}" + (f"T{rest}" if rest else "")


def _path(loc: tuple[int | str, ...]) -> str:
    """Pydantic error location → dotted record field (list indexes dropped)."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            break
        parts.append(str(part))
    return ".".join(parts)


_REASONS = {
    "missing": "必填，不能为空",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应填「是」或「否」",
    "date_parsing": "日期格式不正确（应为 2024-05-01）",
    "date_from_datetime_parsing": "日期格式不正确（应为 2024-05-01）",
    "date_from_datetime_inexact": "日期不应带时间",
    "datetime_parsing": "时间格式不正确（应为 2024-05-01 或 2024-05-01T10:30:00）",
    "datetime_from_date_parsing": "时间格式不正确（应为 2024-05-01 或 2024-05-01T10:30:00）",
    "string_pattern_mismatch": "格式不正确（只能用字母、数字和 _ . : -，最长 64 位）",
    "extra_forbidden": "不是该数据类型的字段",
    "string_type": "应为文字",
    "list_type": "应为列表",
}


def _reason(err: Mapping[str, Any]) -> str:
    """A Chinese reason for one pydantic error."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in _REASONS:
        return _REASONS[kind]
    limits = {
        "less_than_equal": f"不能大于 {ctx.get('le')}",
        "less_than": f"应小于 {ctx.get('lt')}",
        "greater_than_equal": f"不能小于 {ctx.get('ge')}",
        "greater_than": f"应大于 {ctx.get('gt')}",
        "string_too_long": f"过长（最多 {ctx.get('max_length')} 个字符）",
        "string_too_short": "不能为空",
        "too_long": f"项数过多（最多 {ctx.get('max_length')} 项）",
        "enum": f"应为以下之一：{ctx.get('expected')}",
    }
    if kind in limits:
        return limits[kind]
    message = str(err.get("msg", kind))
    return message.removeprefix("Value error, ")
