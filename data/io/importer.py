"""Import a CSV, XLSX or JSON Lines file into a sink (the store).

Good rows always land, in batches, even when other rows are bad; every bad row is reported
with its row number, column and reason. File-level problems (unknown format, a national ID
column, missing required columns) raise :class:`~data.io.readers.ImportFileError` before
anything is written.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from data.io.headers import ENTITY_LABELS, map_headers, model_of
from data.io.readers import ImportFileError, read_table
from data.io.rows import RowConverter, RowError, is_empty
from data.records import Record
from data.taxonomy import Taxonomy, UnknownValueError

PROGRESS_MIN_ROWS = 2000
"""Files with more data rows than this show a progress bar (when asked for)."""

SUMMARY_MAX_ERRORS = 50
_UNNAMED = re.compile(r"^Unnamed: \d+$")


class UpsertResultLike(Protocol):
    """What an upsert returns: the ids inserted, updated and left unchanged."""

    @property
    def inserted(self) -> Sequence[str]:
        """Ids that were new."""
        ...

    @property
    def updated(self) -> Sequence[str]:
        """Ids whose content changed."""
        ...

    @property
    def unchanged(self) -> Sequence[str]:
        """Ids whose content was the same."""
        ...


class Sink(Protocol):
    """Where imported records go; ``data.store.Store`` satisfies it."""

    def upsert(self, entity: str, records: Sequence[Record]) -> UpsertResultLike:
        """Insert new records, update changed ones, leave identical ones unchanged."""
        ...


UpsertFn = Callable[[str, Sequence[Record]], UpsertResultLike]


@dataclass
class ImportReport:
    """The outcome of one import.

    Attributes:
        entity: the entity imported (``talents`` …).
        path: the file.
        fmt: ``csv``, ``xlsx`` or ``jsonl``.
        encoding: the detected text encoding (None for XLSX).
        rows: data rows read (blank rows excluded).
        inserted / updated / unchanged: counts reported by the sink.
        rejected: rows refused because of errors.
        errors: every problem, row by row.
        unknown_columns: headers that match no column (ignored).
        warnings: other notes, in Chinese.
    """

    entity: str
    path: str
    fmt: str
    encoding: str | None
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return self.rejected == 0

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict (for ``--json``)."""
        return {
            "entity": self.entity, "path": self.path, "format": self.fmt,
            "encoding": self.encoding, "rows": self.rows, "inserted": self.inserted,
            "updated": self.updated, "unchanged": self.unchanged, "rejected": self.rejected,
            "unknown_columns": list(self.unknown_columns), "warnings": list(self.warnings),
            "errors": [e.to_dict() for e in self.errors],
        }

    def summary_zh(self, max_errors: int = SUMMARY_MAX_ERRORS) -> str:
        """A plain-text summary in Chinese, listing up to ``max_errors`` errors."""
        label = ENTITY_LABELS.get(self.entity, self.entity)
        enc = f"，编码 {self.encoding}" if self.encoding else ""
        lines = [
            f"导入{label}：{Path(self.path).name}（{self.fmt}{enc}）共 {self.rows} 行；"
            f"新增 {self.inserted}，更新 {self.updated}，未变 {self.unchanged}，"
            f"拒绝 {self.rejected}。"
        ]
        if self.unknown_columns:
            lines.append("未识别的列（已忽略）：" + "、".join(self.unknown_columns))
        lines.extend(self.warnings)
        if self.errors:
            lines.append(f"错误 {len(self.errors)} 条：")
            lines.extend(f"  {e}" for e in self.errors[:max_errors])
            if len(self.errors) > max_errors:
                lines.append(f"  …还有 {len(self.errors) - max_errors} 条错误未列出")
        return "\n".join(lines)

    def print(self, console: Any = None, max_errors: int = SUMMARY_MAX_ERRORS) -> None:
        """Print :meth:`to_rich` to ``console`` (default: a new rich console on stdout)."""
        if console is None:
            from rich.console import Console

            console = Console()
        console.print(self.to_rich(max_errors))

    def to_rich(self, max_errors: int = SUMMARY_MAX_ERRORS) -> Any:
        """A rich renderable: the counts table, then the errors table."""
        from rich.console import Group
        from rich.table import Table

        counts = Table(title=f"导入{ENTITY_LABELS.get(self.entity, self.entity)}：{self.path}")
        for name in ("行数", "新增", "更新", "未变", "拒绝"):
            counts.add_column(name, justify="right")
        counts.add_row(*(str(n) for n in (self.rows, self.inserted, self.updated,
                                          self.unchanged, self.rejected)))
        parts: list[Any] = [counts]
        if self.unknown_columns:
            parts.append("未识别的列（已忽略）：" + "、".join(self.unknown_columns))
        parts.extend(self.warnings)
        if self.errors:
            table = Table(title=f"错误（{len(self.errors)} 条）")
            table.add_column("行", justify="right")
            table.add_column("列")
            table.add_column("原因", overflow="fold")
            table.add_column("值", overflow="fold")
            for e in self.errors[:max_errors]:
                table.add_row(str(e.row), e.field, e.reason, e.value)
            parts.append(table)
        return Group(*parts)


def _upsert_fn(sink: Sink | UpsertFn) -> UpsertFn:
    """The upsert callable of a sink object, or the sink itself when it is a callable."""
    method = getattr(sink, "upsert", None)
    if callable(method):
        return method
    if callable(sink):
        return sink
    raise TypeError("sink must have an upsert(entity, records) method or be callable")


def _default_city(taxonomy: Taxonomy, city: str) -> str:
    """The canonical default city; a file-level error when the taxonomy lacks it."""
    try:
        return taxonomy.city(city).name
    except UnknownValueError as exc:
        raise ImportFileError(f"默认城市无效：{exc}") from exc


def _drop_blank_unnamed(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop columns without a header cell ("Unnamed: 3") that hold no value at all."""
    blank = [c for c in frame.columns if _UNNAMED.match(str(c))
             and all(is_empty(v) for v in frame[c])]
    return frame.drop(columns=blank)


def _rows(frame: pd.DataFrame) -> Iterator[tuple[int, dict[str, Any]]]:
    """(0-based index, header → cell) for every row of the frame."""
    headers = [str(c) for c in frame.columns]
    for index, values in enumerate(frame.itertuples(index=False, name=None)):
        yield index, dict(zip(headers, values, strict=True))


def _progress(total: int, enabled: bool) -> Any:
    """A rich progress bar on stderr when enabled and the file is long, else None."""
    if not enabled or total <= PROGRESS_MIN_ROWS:
        return None
    from rich.console import Console
    from rich.progress import Progress

    return Progress(console=Console(file=sys.stderr), transient=True)


def import_file(path: str | Path, entity: str, sink: Sink | UpsertFn, *, taxonomy: Taxonomy,
                city: str = "平顶山", progress: bool = True, batch_size: int = 1000,
                fmt: str | None = None) -> ImportReport:
    """Import one file of ``entity`` records into ``sink``.

    Args:
        path: a ``.csv`` (UTF-8, UTF-8 with BOM, GBK/GB18030), ``.xlsx`` or ``.jsonl`` file.
        entity: ``talents``, ``enterprises``, ``needs``, ``challenges`` or ``projects``.
        sink: an object with ``upsert(entity, records)`` (the store), or that callable.
        taxonomy: the vocabularies that canonicalise categorical values.
        city: the default city for rows without a 所属城市 cell.
        progress: show a progress bar for files of more than 2,000 rows.
        batch_size: records per upsert call.
        fmt: force a format instead of using the extension.

    Returns:
        The :class:`ImportReport`.

    Raises:
        ImportFileError: the file cannot be read, carries a national ID column or lacks a
            required column; nothing is imported.
    """
    model_of(entity)
    upsert = _upsert_fn(sink)
    table = read_table(path, fmt)
    table.frame = _drop_blank_unnamed(table.frame)
    headers = map_headers(table.frame.columns, entity)
    converter = RowConverter(entity, headers, taxonomy, _default_city(taxonomy, city),
                             table.first_row)
    report = ImportReport(entity, str(path), table.fmt, table.encoding,
                          unknown_columns=headers.unknown)
    if headers.duplicates:
        report.warnings.append("重复的列（已忽略，以前一列为准）：" + "、".join(headers.duplicates))
    bar = _progress(len(table.frame), progress)
    batch: list[Record] = []
    with bar if bar is not None else contextlib.nullcontext():
        task = bar.add_task("导入中", total=len(table.frame)) if bar is not None else None
        for index, cells in _rows(table.frame):
            if bar is not None:
                bar.advance(task)
            if all(is_empty(v) for v in cells.values()):
                continue
            report.rows += 1
            record, errors = converter.convert(converter.row_number(index), cells)
            if record is None:
                report.rejected += 1
                report.errors.extend(errors)
                continue
            batch.append(record)
            if len(batch) >= batch_size:
                _flush(upsert, entity, batch, report)
        _flush(upsert, entity, batch, report)
    return report


def _flush(upsert: UpsertFn, entity: str, batch: list[Record], report: ImportReport) -> None:
    """Upsert a batch, add its counts to the report and empty it."""
    if not batch:
        return
    result = upsert(entity, list(batch))
    report.inserted += len(result.inserted)
    report.updated += len(result.updated)
    report.unchanged += len(result.unchanged)
    batch.clear()
