"""XLSX workbooks: refused before opening when they are not a workbook or unpack too large,
then read row by row (openpyxl's read-only mode) in bounded memory.

An XLSX file is a zip archive. Its members' declared uncompressed sizes are summed and checked
against :attr:`~data.io.limits.ImportLimits.max_xlsx_bytes` before openpyxl sees the file;
Python's zipfile never inflates a member past its declared size (a lying member fails its
CRC check), so the check bounds the XML that can be parsed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.etree.ElementTree import ParseError

from data.io.limits import MIB, ImportLimits
from data.io.readers import CHUNK, FileScan, ImportFileError, ImportLimitError

REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")

MAX_COLUMNS = 256
"""Columns read per row; cells further right are ignored (real sheets have fewer than 60)."""


def _not_a_workbook(scan: FileScan, detail: str = "") -> ImportFileError:
    extra = f"（{detail}）" if detail else ""
    return ImportFileError(
        f"文件「{scan.path.name}」不是有效的 Excel 工作簿（.xlsx）{extra}：文件可能已损坏，"
        "或只是改了扩展名。请用 Excel 打开后「另存为」Excel 工作簿（.xlsx）或 CSV 再导入；"
        "本次未导入任何记录。")


def check_xlsx(scan: FileScan, limits: ImportLimits) -> None:
    """Check that ``scan.path`` is a workbook within the size cap; fill in its hash.

    Args:
        scan: the scan being built (``sha256`` is set here).
        limits: the caps.

    Raises:
        ImportFileError: not a zip archive, or a zip without the workbook parts.
        ImportLimitError: the parts would unpack past ``limits.max_xlsx_bytes``.
    """
    try:
        with zipfile.ZipFile(scan.path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _not_a_workbook(scan) from exc
    names = {i.filename for i in infos}
    if not all(part in names for part in REQUIRED_PARTS):
        raise _not_a_workbook(scan, "压缩包中没有工作簿内容")
    total = sum(i.file_size for i in infos)
    if total > limits.max_xlsx_bytes:
        raise ImportLimitError(
            f"Excel 文件「{scan.path.name}」解压后约 {total / MIB:,.0f} MB，超过上限 "
            f"{limits.max_xlsx_bytes / MIB:,.0f} MB（设置项 TALENTMATCH_IMPORT_MAX_XLSX_MB）："
            "文件可能含有大量空白格式或是恶意文件。请删除多余的工作表和格式，或另存为 CSV 后"
            "再导入；本次未导入任何记录。")
    digest = hashlib.sha256()
    with scan.path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    scan.sha256 = digest.hexdigest()


def iter_xlsx(scan: FileScan) -> Iterator[list[str]]:
    """The rows of the first sheet, each a list of cell texts (as a user sees them).

    Sets ``scan.records`` to the sheet's declared last row when the sheet declares one.

    Raises:
        ImportFileError: the workbook cannot be parsed (at open or on the way).
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    broken = (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, ParseError,
              InvalidFileException, TypeError, IndexError)
    try:
        workbook = load_workbook(scan.path, read_only=True, data_only=True)
    except broken as exc:
        raise _not_a_workbook(scan, type(exc).__name__) from exc
    try:
        if not workbook.worksheets:
            raise _not_a_workbook(scan, "没有工作表")
        sheet = workbook.worksheets[0]
        try:
            declared = sheet.max_row  # from the sheet's <dimension>, when present
        except broken:
            declared = None
        scan.records = declared if isinstance(declared, int) and declared > 1 else None
        sheet.reset_dimensions()  # a lying <dimension> must not pad every row to 16,384 cells
        rows = sheet.iter_rows(min_row=1, min_col=1, max_col=MAX_COLUMNS, values_only=True)
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except broken as exc:
                raise _not_a_workbook(scan, f"读取中断：{type(exc).__name__}") from exc
            end = len(values)
            while end and values[end - 1] is None:
                end -= 1
            yield [cell_text(v) for v in values[:end]]
    finally:
        workbook.close()


def cell_text(value: Any) -> str:
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
    return str(value)
