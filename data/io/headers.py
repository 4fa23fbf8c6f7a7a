"""Map a file's header row onto the column table of :mod:`data.columns`.

A header matches a column when, after trimming spaces and a byte-order mark, NFKC folding
(full-width → half-width) and lower-casing, it equals the column's Chinese header, English
header, record field name or one of its aliases. Top-level record fields that have no column
(e.g. ``team_size`` in a JSON Lines export) are accepted under their field name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from data.columns import COLUMNS, NATIONAL_ID_HEADERS, Column
from data.io.natural_keys import describe, keys_of
from data.io.readers import ImportFileError
from data.records import ENTITY_MODELS, Record
from data.taxonomy import entity_labels

ENTITY_LABELS = entity_labels()
"""Chinese name per importable entity (the taxonomy's ``entity`` vocabulary)."""


class NationalIdError(ImportFileError):
    """The file has a national ID number column: it is refused as a whole."""


class MissingColumnsError(ImportFileError):
    """Required columns are absent from the header row."""


def header_key(text: object) -> str:
    """Fold a header for matching: strip BOM and spaces, NFKC, lower case.

    Args:
        text: the header as written in the file.

    Returns:
        The folded key.
    """
    folded = unicodedata.normalize("NFKC", str(text).replace("\ufeff", "")).lower()
    return "".join(ch for ch in folded if not ch.isspace())


def accepted_headers(column: Column) -> list[str]:
    """Every header that a file may use for ``column``, Chinese header first."""
    return list(dict.fromkeys([column.zh, column.en, *column.aliases, column.field]))


def model_of(entity: str) -> type[Record]:
    """The import model of ``entity``.

    Raises:
        ImportFileError: unknown entity; the message lists the accepted ones.
    """
    if entity not in ENTITY_MODELS or entity not in COLUMNS:
        names = "、".join(f"{k}（{v}）" for k, v in ENTITY_LABELS.items())
        raise ImportFileError(f"未知的数据类型「{entity}」；可导入：{names}")
    return ENTITY_MODELS[entity]


def required_columns(entity: str) -> list[Column]:
    """Columns whose record field has no default (e.g. 编号, 姓名, 人才类别 for talents)."""
    fields = model_of(entity).model_fields
    return [c for c in COLUMNS[entity] if c.field in fields and fields[c.field].is_required()]


@dataclass
class HeaderMap:
    """How the columns of one file map onto record fields.

    Attributes:
        entity: the entity name (``talents`` …).
        columns: file header (as written) → column.
        unknown: headers that match nothing (ignored, reported as a warning).
        duplicates: headers naming a field that an earlier header already supplies (ignored).
        natural_key: True when the file has no id column and ids are derived from a natural
            key (see :mod:`data.io.natural_keys`).
    """

    entity: str
    columns: dict[str, Column] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    natural_key: bool = False

    def header_of(self, record_field: str) -> str | None:
        """The file header that supplies ``record_field``, if any."""
        for header, column in self.columns.items():
            if column.field == record_field:
                return header
        return None


def _index(entity: str) -> dict[str, Column]:
    """Folded header → column for one entity, plus pass-through record fields."""
    index: dict[str, Column] = {}
    for column in COLUMNS[entity]:
        for name in accepted_headers(column):
            index.setdefault(header_key(name), column)
    known = {c.field for c in COLUMNS[entity]}
    for name in model_of(entity).model_fields:  # incl. parents of dotted fields ("contact")
        if name not in known:
            index.setdefault(header_key(name), Column(name, name, name))
    return index


def _refuse_national_id(headers: Iterable[str]) -> None:
    """Raise :class:`NationalIdError` when a header names a national ID number."""
    banned = {header_key(h) for h in NATIONAL_ID_HEADERS}
    for header in headers:
        key = header_key(header)
        if key in banned or "身份证" in key:
            raise NationalIdError(
                f"文件含有身份证号列「{header}」：本系统不保存身份证号。"
                f"请在文件中删除「{header}」列后重新导入；本次未导入任何记录。"
            )


def map_headers(headers: Iterable[object], entity: str, header_row: int | None = 1) -> HeaderMap:
    """Map a header row onto the columns of ``entity``.

    A file without the id column is accepted when it has the columns of one of the entity's
    natural keys (:mod:`data.io.natural_keys`); ids are then derived row by row.

    Args:
        headers: the header cells as written in the file.
        entity: ``talents``, ``enterprises``, ``needs``, ``challenges`` or ``projects``.
        header_row: the header's row number, for messages (``None``: JSON Lines keys).

    Returns:
        The :class:`HeaderMap`.

    Raises:
        NationalIdError: a column holds national ID numbers (the file is refused).
        MissingColumnsError: required columns are absent; the message lists accepted headers.
        ImportFileError: unknown entity.
    """
    names = [str(h) for h in headers]
    _refuse_national_id(names)
    index = _index(entity)
    result = HeaderMap(entity)
    seen: set[str] = set()
    for header in names:
        column = index.get(header_key(header))
        if column is None:
            result.unknown.append(header)
        elif column.field in seen:
            result.duplicates.append(header)
        else:
            seen.add(column.field)
            result.columns[header] = column
    missing = [c for c in required_columns(entity) if c.field not in seen]
    if "id" not in seen and any(set(k.fields) <= seen for k in keys_of(entity)):
        result.natural_key = True
        missing = [c for c in missing if c.field != "id"]
    if missing:
        parts = [f"{c.zh}（{c.field}；可用列名：{'、'.join(accepted_headers(c))}）" for c in missing]
        hint = ""
        if any(c.field == "id" for c in missing) and keys_of(entity):
            hint = f"没有编号列时，须有 {describe(entity)} 列，以便生成稳定编号。"
        where = (f"请在第 {header_row} 行（表头）加上这些列后重新导入。" if header_row is not None
                 else "请在每条记录中加上这些字段后重新导入。")
        raise MissingColumnsError(
            f"{ENTITY_LABELS[entity]}文件缺少必填列：" + "；".join(parts) + "。" + where + hint
        )
    return result


def find_header_row(rows: Sequence[Sequence[object]], entity: str) -> tuple[int, list[str]]:
    """Find the header among the first rows of a sheet, and name every column.

    The header is the row where the most cells are known headers of ``entity`` (the first
    such row on a tie; row 0 when none matches). Title rows above it (a merged 「XX人才信息表」)
    are skipped. In a two-row header (「基本信息」 merged over six columns above 姓名, 籍贯 …),
    a header cell left empty by a vertical merge takes the nearest non-empty cell above it
    from a row of at least two filled cells (a one-cell title row is never a column name).
    Columns still without a name are called ``Unnamed: <index>``; repeated names get
    ``.1``, ``.2`` … appended.

    Args:
        rows: the first rows of the sheet (see :data:`data.io.limits.HEADER_SCAN_ROWS`).
        entity: the entity the file holds.

    Returns:
        ``(index of the header row in rows, column names)``.
    """
    index = _index(entity)
    banned = {header_key(h) for h in NATIONAL_ID_HEADERS}

    def score(row: Sequence[object]) -> int:
        keys = [header_key(c) for c in row if str(c).strip()]
        return sum(1 for k in keys if k in index or k in banned or "身份证" in k)

    scores = [score(r) for r in rows]
    best = max(range(len(rows)), key=lambda i: (scores[i], -i)) if rows else 0
    header = list(rows[best]) if rows else []
    above = [r for r in rows[:best] if sum(1 for c in r if str(c).strip()) >= 2]
    names: list[str] = []
    counts: dict[str, int] = {}
    for j, cell in enumerate(header):
        text = str(cell).strip()
        if not text:
            text = next((str(r[j]).strip() for r in reversed(above)
                         if j < len(r) and str(r[j]).strip()), "")
        if not text:
            text = f"Unnamed: {j}"
        n = counts.get(text, 0)
        counts[text] = n + 1
        names.append(text if n == 0 else f"{text}.{n}")
    return best, names
