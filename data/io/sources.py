"""The rows of a scanned file, header found and mapped, as a stream for the importer.

CSV and XLSX: the header row is found among the first rows (:func:`find_header_row`); the
rows below it are yielded with their spreadsheet row numbers. JSON Lines: the keys of all
objects make the header; each line is a row numbered by its line, and a broken line is a
row error while the lines after it are still read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Any

from data.io.headers import HeaderMap, find_header_row, map_headers
from data.io.limits import HEADER_SCAN_ROWS
from data.io.readers import FileScan, iter_csv, iter_jsonl

BLANK_RUN_END = 10_000
"""A run of this many blank rows ends a sheet (formatting often reaches row 1,048,576)."""

SourceRow = tuple[int, dict[str, Any] | None, str]
"""(row number as the user sees it, header → cell or None for a broken line, reason)."""


@dataclass
class RowSource:
    """A file's rows below its header.

    Attributes:
        headers: the mapped header.
        header_row: the header's row number (0 for JSON Lines, which has none).
        rows: ``(row number, cells, "")`` per row, ``(row number, None, reason)`` for a line
            that could not be read.
        total: rows expected below the header (for progress), when known.
        headerless: columns without a header cell that held a value, named
            ``Unnamed: <index>`` (filled in while ``rows`` is consumed).
    """

    headers: HeaderMap
    header_row: int
    rows: Iterator[SourceRow]
    total: int | None
    headerless: list[str] = field(default_factory=list)


def open_source(scan: FileScan, entity: str) -> RowSource:
    """The rows of a scanned file for ``entity``.

    Raises:
        ImportFileError: (and subclasses) the header lacks required columns or names a
            national ID column.
    """
    if scan.fmt == "jsonl":
        headers = map_headers(scan.keys, entity, header_row=None)
        return RowSource(headers, 0, iter_jsonl(scan), scan.records)
    if scan.fmt == "xlsx":
        from data.io.xlsx import iter_xlsx

        grid: Iterator[list[str]] = iter_xlsx(scan)
    else:
        grid = iter_csv(scan)
    head = list(islice(grid, HEADER_SCAN_ROWS))
    index, names = find_header_row(head, entity)
    header_row = index + 1
    named = [n for n in names if not n.startswith("Unnamed: ")]
    headers = map_headers(named, entity, header_row=header_row)
    total = scan.records - header_row if scan.records is not None else None
    source = RowSource(headers, header_row, iter(()), total)
    source.rows = _grid_rows(chain(head[header_row:], grid), names, header_row, source,
                             strict_width=scan.fmt == "csv")
    return source


def _grid_rows(grid: Iterator[list[str]], names: list[str], header_row: int,
               source: RowSource, strict_width: bool) -> Iterator[SourceRow]:
    """Rows below the header as header → cell; notes headerless columns holding data.

    With ``strict_width`` (CSV), a row with values beyond the header's last column is a bad
    row (an unquoted comma shifts every later cell), not a headerless column.
    """
    width = len(names)
    named = [(j, n) for j, n in enumerate(names) if not n.startswith("Unnamed: ")]
    unnamed = {j for j, n in enumerate(names) if n.startswith("Unnamed: ")}
    seen_headerless: set[int] = set()
    blank_run = 0
    for number, row in enumerate(grid, start=header_row + 1):
        if strict_width and any(str(c).strip() for c in row[width:]):
            filled = max(j for j, c in enumerate(row) if str(c).strip()) + 1
            yield number, None, (f"本行有 {filled} 列，多于表头的 {width} 列（单元格中可能有未加"
                                 "引号的逗号），该行未导入")
            blank_run = 0
            continue
        for j, cell in enumerate(row):
            if (j in unnamed or j >= width) and j not in seen_headerless and str(cell).strip():
                seen_headerless.add(j)
                source.headerless.append(f"Unnamed: {j}")
        cells = {n: (row[j] if j < len(row) else "") for j, n in named}
        if any(str(c).strip() for c in row):
            blank_run = 0
        else:
            blank_run += 1
            if blank_run >= BLANK_RUN_END:
                return
        yield number, cells, ""
