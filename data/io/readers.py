"""Read an import file into a DataFrame of strings: format and encoding detection.

Formats come from the file extension: ``.csv`` (also ``.tsv``/``.txt``), ``.xlsx``/``.xlsm``
and JSON Lines (``.jsonl``, ``.ndjson``, ``.json`` holding one object per line). CSV text
encodings are detected in this order: a byte-order mark (UTF-8, UTF-16), strict UTF-8,
GB18030 (a superset of GBK and GB2312, what Chinese Excel writes), then charset-normalizer's
best guess.

CSV and XLSX cells are read as strings (ids such as ``0001`` and phone numbers keep their
leading zeros); empty cells are ``""``. JSON Lines values keep their JSON types (lists for
list fields, numbers for numbers); nested objects such as ``contact`` are flattened to
dotted keys (``contact.phone``).
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
"""File extension → format name."""

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class ImportFileError(ValueError):
    """A problem with the whole file (format, encoding, headers): nothing is imported."""


ImportRefused = ImportFileError
"""Alias used by the CLI: the file as a whole was refused."""


@dataclass
class Table:
    """A file read into memory.

    Attributes:
        frame: one row per data row, one column per file column, cells as read.
        fmt: ``csv``, ``xlsx`` or ``jsonl``.
        encoding: the detected text encoding (``None`` for XLSX).
        first_row: the row number a user sees for the first data row (2 below a header
            row in CSV/XLSX, 1 for the first line of a JSON Lines file).
    """

    frame: pd.DataFrame
    fmt: str
    encoding: str | None
    first_row: int


def detect_format(path: str | Path, fmt: str | None = None) -> str:
    """The format of ``path`` from its extension, or ``fmt`` when given.

    Args:
        path: the file path.
        fmt: an explicit format (``csv``, ``xlsx``, ``jsonl``) that overrides the extension.

    Returns:
        The format name.

    Raises:
        ImportFileError: the extension or the explicit format is not supported.
    """
    accepted = "、".join(sorted(FORMATS))
    if fmt is not None:
        if fmt not in set(FORMATS.values()):
            raise ImportFileError(f"不支持的文件格式「{fmt}」；可用：csv、xlsx、jsonl")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ImportFileError(
            f"无法识别文件「{Path(path).name}」的格式（扩展名「{suffix or '无'}」）；"
            f"支持的扩展名：{accepted}"
        )
    return FORMATS[suffix]


def detect_encoding(raw: bytes) -> str:
    """The text encoding of ``raw``: BOM, then strict UTF-8, then GB18030, then a guess.

    Args:
        raw: the file's bytes.

    Returns:
        A Python codec name (``utf-8-sig``, ``utf-16``, ``utf-8``, ``gb18030`` …).

    Raises:
        ImportFileError: no encoding decodes the bytes.
    """
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    for name in ("utf-8", "gb18030"):
        try:
            raw.decode(name)
            return name
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise ImportFileError("无法识别文件的文字编码；请在 Excel 中另存为「CSV UTF-8」后重新导入")
    return str(best.encoding)


def read_table(path: str | Path, fmt: str | None = None) -> Table:
    """Read an import file.

    Args:
        path: a CSV, XLSX or JSON Lines file.
        fmt: force a format instead of using the extension.

    Returns:
        The :class:`Table` with the frame, format, encoding and first row number.

    Raises:
        ImportFileError: unknown format, undecodable text, malformed file or no header.
    """
    path = Path(path)
    kind = detect_format(path, fmt)
    if not path.is_file():
        raise ImportFileError(f"找不到文件「{path}」")
    if kind == "xlsx":
        return Table(_read_xlsx(path), "xlsx", None, 2)
    raw = path.read_bytes()
    encoding = detect_encoding(raw)
    text = raw.decode(encoding)  # the utf-8-sig and utf-16 codecs drop the BOM
    if kind == "csv":
        return Table(_read_csv(text), "csv", encoding, 2)
    return Table(_read_jsonl(text), "jsonl", encoding, 1)


def _read_csv(text: str) -> pd.DataFrame:
    """Parse CSV text; a tab-separated header (Excel "Unicode text") switches to tabs."""
    if not text.strip():
        raise ImportFileError("文件为空：第 1 行应为表头")
    first = text.split("\n", 1)[0]
    sep = "\t" if first.count("\t") > first.count(",") else ","
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                           skip_blank_lines=False)
    except pd.errors.ParserError as exc:
        raise ImportFileError(f"CSV 格式错误（列数不一致或引号未闭合）：{exc}") from exc


def _read_xlsx(path: Path) -> pd.DataFrame:
    """Read the first sheet of a workbook; cells become strings as a user sees them."""
    try:
        frame = pd.read_excel(path, sheet_name=0, dtype=object, keep_default_na=False,
                              engine="openpyxl")
    except (ValueError, KeyError, OSError) as exc:
        raise ImportFileError(f"无法读取 Excel 文件「{path.name}」：{exc}") from exc
    frame.columns = [_cell_text(c) for c in frame.columns]
    return frame.map(_cell_text).astype(object)


def _cell_text(value: Any) -> str:
    """One spreadsheet cell as text: 12.0 → "12", midnight datetimes → a date."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, pd.Timestamp):  # pragma: no cover - pandas usually gives datetime
        return _cell_text(value.to_pydatetime())
    return str(value)


def _read_jsonl(text: str) -> pd.DataFrame:
    """Parse JSON Lines; blank lines keep their line number as an all-empty row."""
    rows: list[dict[str, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            rows.append({})
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"第 {n} 行不是有效的 JSON：{exc.msg}") from exc
        if not isinstance(obj, dict):
            raise ImportFileError(f"第 {n} 行应为一个 JSON 对象（{{…}}）")
        rows.append(_flatten(obj))
    while rows and not rows[-1]:
        rows.pop()
    if not rows:
        raise ImportFileError("文件为空：没有任何记录")
    frame = pd.DataFrame(rows, dtype=object)
    return frame.astype(object).where(frame.notna(), "")


def _flatten(obj: dict[str, Any]) -> dict[str, Any]:
    """``{"contact": {"phone": x}}`` → ``{"contact.phone": x}`` (one level deep)."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                out[f"{key}.{sub}"] = inner
        else:
            out[key] = value
    return out
