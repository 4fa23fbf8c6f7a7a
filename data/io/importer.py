"""Import a CSV, XLSX or JSON Lines file into a sink (the store).

Good rows always land, in batches, even when other rows are bad; every bad row is reported
with its row number, column and reason (a broken JSON Lines line too). File-level problems
(not a workbook, unknown format, a national ID column, missing required columns, a limit)
raise :class:`~data.io.readers.ImportFileError` before anything is written.

The file is streamed: a first pass checks it whole (:func:`~data.io.readers.scan_file`), a
second converts and upserts ``batch_size`` rows at a time, so memory stays bounded whatever
the file size. With a journal (the store), each import is recorded with its file hash,
counts and status (:mod:`data.io.journal`).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from data.io.headers import ENTITY_LABELS, model_of
from data.io.journal import ImportJournal
from data.io.limits import ImportLimits
from data.io.natural_keys import describe
from data.io.readers import FileScan, ImportFileError, ImportLimitError, scan_file
from data.io.rows import RowConverter, RowError, is_empty
from data.io.sources import RowSource, open_source
from data.records import Record
from data.taxonomy import Taxonomy, UnknownValueError

PROGRESS_MIN_ROWS = 2000
"""Files with more data rows than this show a progress bar (when asked for)."""

SUMMARY_MAX_ERRORS = 50
MAX_DUPLICATE_NOTES = 50
"""Possible duplicates listed in the warnings (the rest are counted)."""


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

RefuseFn = Callable[[str, Sequence[str]], Mapping[str, str]]
"""``(entity, ids of a batch) → {id: reason}``: rows to refuse before they are written (a
city-scoped import refuses the ids of another city's records); each becomes a row error."""


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
        sha256: the file's SHA-256 (hex).
        header_row: the header's row number (1 unless title rows sit above it; 0 for JSON
            Lines).
        import_id: the import record's id, when a journal recorded the import.
        resumed: ids of earlier incomplete imports of the same file that this one completed.
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
    sha256: str = ""
    header_row: int = 1
    import_id: str | None = None
    resumed: list[str] = field(default_factory=list)

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
            "errors": [e.to_dict() for e in self.errors], "sha256": self.sha256,
            "header_row": self.header_row, "import_id": self.import_id,
            "resumed": list(self.resumed),
        }

    def counts(self) -> dict[str, int]:
        """rows, inserted, updated, unchanged, rejected (for the import record)."""
        return {"rows": self.rows, "inserted": self.inserted, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": self.rejected}

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


def _progress(total: int | None, enabled: bool) -> Any:
    """A rich progress bar on stderr when enabled and the file is long (or of unknown
    length), else None."""
    if not enabled or (total is not None and total <= PROGRESS_MIN_ROWS):
        return None
    from rich.console import Console
    from rich.progress import Progress

    return Progress(console=Console(file=sys.stderr), transient=True)


def _too_many_rows(limits: ImportLimits, found: int | str) -> ImportLimitError:
    return ImportLimitError(
        f"文件数据行数（{found}）超过上限 {limits.max_rows:,} 行（设置项 "
        "TALENTMATCH_IMPORT_MAX_ROWS）：请把文件拆分成几个较小的文件后分别导入。")


def import_file(path: str | Path, entity: str, sink: Sink | UpsertFn, *, taxonomy: Taxonomy,
                city: str = "平顶山", progress: bool = True, batch_size: int = 1000,
                fmt: str | None = None, limits: ImportLimits | None = None,
                journal: ImportJournal | None = None, started_by: str | None = None,
                file_name: str | None = None, only_city: bool = False,
                refuse: RefuseFn | None = None) -> ImportReport:
    """Import one file of ``entity`` records into ``sink``, streaming it in bounded memory.

    Args:
        path: a ``.csv`` (UTF-8, UTF-8 with BOM, GBK/GB18030), ``.xlsx`` or ``.jsonl`` file.
        entity: ``talents``, ``enterprises``, ``needs``, ``challenges`` or ``projects``.
        sink: an object with ``upsert(entity, records)`` (the store), or that callable.
        taxonomy: the vocabularies that canonicalise categorical values.
        city: the default city for rows without a 所属城市 cell.
        progress: show a progress bar (stderr) for files of more than 2,000 rows.
        batch_size: records per upsert call (and per progress update of the import record).
        fmt: force a format instead of using the extension.
        limits: row and size caps (default :class:`ImportLimits`).
        journal: where the import is recorded (the store), or None.
        started_by: who started the import (for the record).
        file_name: the name to record and report (default: the path's name).
        only_city: rows naming another city than ``city`` are row errors (a city-scoped
            account's import).
        refuse: checked for each batch before it is written (:data:`RefuseFn`).

    Returns:
        The :class:`ImportReport`.

    Raises:
        ImportFileError: the file cannot be read, carries a national ID column, lacks a
            required column or exceeds a limit; nothing is imported. A row cap reached while
            streaming an XLSX sheet stops the import after the rows before it (the record
            says ``failed``).
    """
    model_of(entity)
    upsert = _upsert_fn(sink)
    limits = limits or ImportLimits()
    default_city = _default_city(taxonomy, city)
    scan = scan_file(path, fmt, limits)
    source = open_source(scan, entity)
    if source.total is not None and scan.fmt != "xlsx" and source.total > limits.max_rows:
        raise _too_many_rows(limits, f"{source.total:,}")
    converter = RowConverter(entity, source.headers, taxonomy, default_city,
                             source.header_row + 1, only_city=only_city)
    report = _new_report(scan, source, str(path))
    record_id = None
    if journal is not None:
        report.import_id = record_id = journal.start_import({
            "entity": entity, "file_name": file_name or scan.path.name,
            "file_hash": scan.sha256, "file_size": scan.size, "format": scan.fmt,
            "started_by": started_by})
        earlier = journal.incomplete_imports(entity, scan.sha256)
        if any(e["id"] != record_id for e in earlier):
            report.warnings.append("此文件此前的导入未完成（已中断或出错）：本次重新读取全部行，"
                                   "已导入的行计为「未变」。")
    try:
        _stream(source, converter, upsert, entity, report, limits, batch_size, progress,
                journal, record_id, refuse)
    except BaseException as exc:
        if journal is not None and record_id is not None:
            journal.finish_import(record_id, "failed", _counts(report),
                                  str(exc)[:500] or type(exc).__name__)
        raise
    _finish_report(report, source, converter)
    if journal is not None and record_id is not None:
        report.resumed = journal.finish_import(record_id, "complete", _counts(report))
    return report


def _new_report(scan: FileScan, source: RowSource, path: str) -> ImportReport:
    """The report before any row: format, hash, header position, header warnings."""
    headers = source.headers
    report = ImportReport(headers.entity, path, scan.fmt, scan.encoding,
                          unknown_columns=list(headers.unknown), sha256=scan.sha256,
                          header_row=source.header_row)
    if source.header_row > 1:
        report.warnings.append(f"表头在第 {source.header_row} 行：上方 {source.header_row - 1} "
                               "行（标题或分组表头）已跳过。")
    if headers.duplicates:
        report.warnings.append("重复的列（已忽略，以前一列为准）：" + "、".join(headers.duplicates))
    if headers.natural_key:
        report.warnings.append(f"文件没有编号列：按 {describe(headers.entity)} 生成稳定编号"
                               "（同一行再次导入得到同一编号）。")
    return report


def _finish_report(report: ImportReport, source: RowSource, converter: RowConverter) -> None:
    """Add what is only known at the end: headerless columns, possible duplicates."""
    report.unknown_columns.extend(source.headerless)
    notes = converter.possible_duplicates
    if notes:
        report.warnings.append(f"可能重复的记录 {len(notes)} 处：")
        report.warnings.extend(f"  {n}" for n in notes[:MAX_DUPLICATE_NOTES])
        if len(notes) > MAX_DUPLICATE_NOTES:
            report.warnings.append(f"  …还有 {len(notes) - MAX_DUPLICATE_NOTES} 处未列出")


def _counts(report: ImportReport, last_row: int = 0) -> dict[str, int]:
    return {**report.counts(), "last_row": last_row}


def _stream(source: RowSource, converter: RowConverter, upsert: UpsertFn, entity: str,
            report: ImportReport, limits: ImportLimits, batch_size: int, progress: bool,
            journal: ImportJournal | None, record_id: str | None,
            refuse: RefuseFn | None = None) -> None:
    """Convert the rows and upsert them in batches, recording progress after each batch."""
    total = source.total if source.total is None or source.total <= limits.max_rows else None
    bar = _progress(total, progress)
    batch: list[Record] = []
    numbers: dict[str, int] = {}  # id → row of the batch's records (for refused rows)
    last_row = 0

    def flush() -> None:
        if refuse is not None:
            _refuse(refuse, entity, batch, numbers, converter.id_header or "", report)
        numbers.clear()
        _flush(upsert, entity, batch, report)
        if journal is not None and record_id is not None:
            journal.progress_import(record_id, _counts(report, last_row))

    with bar if bar is not None else contextlib.nullcontext():
        task = bar.add_task("导入中", total=total) if bar is not None else None
        for number, cells, problem in source.rows:
            if bar is not None:
                bar.advance(task)
            last_row = number
            if cells is None:
                report.rows += 1
                report.rejected += 1
                report.errors.append(RowError(number, "", problem))
                continue
            if all(is_empty(v) for v in cells.values()):
                continue
            report.rows += 1
            if report.rows > limits.max_rows:
                raise _too_many_rows(limits, f"第 {number} 行时已超过")
            record, errors = converter.convert(number, cells)
            if record is None:
                report.rejected += 1
                report.errors.extend(errors)
                continue
            batch.append(record)
            numbers[str(getattr(record, "id", ""))] = number
            if len(batch) >= batch_size:
                flush()
        flush()


def _refuse(refuse: RefuseFn, entity: str, batch: list[Record], numbers: Mapping[str, int],
            id_header: str, report: ImportReport) -> None:
    """Drop the batch's records that ``refuse`` names, reporting each as a row error."""
    refused = refuse(entity, [str(getattr(r, "id", "")) for r in batch]) if batch else {}
    if not refused:
        return
    for rid, reason in refused.items():
        report.rejected += 1
        report.errors.append(RowError(numbers.get(rid, 0), id_header, reason, rid, "id"))
    batch[:] = [r for r in batch if str(getattr(r, "id", "")) not in refused]


def _flush(upsert: UpsertFn, entity: str, batch: list[Record], report: ImportReport) -> None:
    """Upsert a batch, add its counts to the report and empty it."""
    if not batch:
        return
    result = upsert(entity, list(batch))
    report.inserted += len(result.inserted)
    report.updated += len(result.updated)
    report.unchanged += len(result.unchanged)
    batch.clear()
