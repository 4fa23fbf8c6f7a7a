"""Read an import file as a stream of rows: format and encoding detection, limits, scans.

Formats come from the file extension: ``.csv`` (also ``.tsv``/``.txt``), ``.xlsx``/``.xlsm``
and JSON Lines (``.jsonl``, ``.ndjson``, ``.json`` holding one object per line). CSV text
encodings are detected in this order: a byte-order mark (UTF-8, UTF-16), strict UTF-8,
GB18030 (a superset of GBK and GB2312, what Chinese Excel writes), then charset-normalizer's
best guess.

A file is read twice, each time as a stream in bounded memory: :func:`scan_file` checks it as
a whole (SHA-256, encoding, CSV quoting, record count, JSON Lines keys, XLSX zip sizes) before
anything is written; :func:`iter_csv`, :func:`iter_jsonl` and
:func:`data.io.xlsx.iter_xlsx` then yield its rows one at a time.

CSV and XLSX cells are read as strings (ids such as ``0001`` and phone numbers keep their
leading zeros); empty cells are ``""``. JSON Lines values keep their JSON types (lists for
list fields, numbers for numbers); nested objects such as ``contact`` are flattened to
dotted keys (``contact.phone``).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from data.io.limits import ImportLimits

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

CHUNK = 1 << 16
"""Bytes read at a time."""

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class ImportFileError(ValueError):
    """A problem with the whole file (format, encoding, headers): nothing is imported."""


ImportRefused = ImportFileError
"""Alias used by the CLI: the file as a whole was refused."""


class ImportLimitError(ImportFileError):
    """The file exceeds an import limit (rows, uncompressed XLSX size)."""


@dataclass
class FileScan:
    """What the first pass over a file found.

    Attributes:
        path: the file.
        fmt: ``csv``, ``xlsx`` or ``jsonl``.
        size: bytes on disk.
        sha256: hex digest of the file's bytes (identifies the file in import records).
        encoding: the text encoding (``None`` for XLSX).
        delimiter: the CSV field separator (``,`` or a tab).
        records: CSV records or JSON Lines lines, trailing blank ones excluded; for XLSX the
            sheet's declared last row (``None`` when the sheet does not declare it).
        keys: JSON Lines: every key of every object (flattened), in first-seen order.
    """

    path: Path
    fmt: str
    size: int
    sha256: str
    encoding: str | None = None
    delimiter: str = ","
    records: int | None = None
    keys: list[str] = field(default_factory=list)


@dataclass
class Table:
    """A small file read into memory (see :func:`read_table`).

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


class _Tap(io.RawIOBase):
    """A binary reader that hashes what passes through it."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.sha.update(data)
        return n


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
    return _guess_encoding(raw)


def _guess_encoding(raw: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise ImportFileError("无法识别文件的文字编码；请在 Excel 中另存为「CSV UTF-8」后重新导入")
    return str(best.encoding)


def _candidates(path: Path) -> list[str]:
    """Encodings to try, in order, from the file's first bytes."""
    with path.open("rb") as f:
        head = f.read(CHUNK)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return [name]
    return ["utf-8", "gb18030"]


def _text(path: Path, encoding: str, newline: str | None) -> tuple[io.TextIOWrapper, _Tap]:
    """The file as a strict text stream, and the tap that hashes its bytes."""
    tap = _Tap(path.open("rb"))
    return io.TextIOWrapper(io.BufferedReader(tap, CHUNK), encoding=encoding, errors="strict",
                            newline=newline), tap


def _decode_pass(scan: FileScan, count: Any) -> None:
    """Run ``count(text_stream)`` under each candidate encoding until one decodes the file.

    Sets ``scan.encoding`` and ``scan.sha256``; ``count`` fills in the rest of the scan.
    """
    tried = _candidates(scan.path)
    for encoding in tried:
        stream, tap = _text(scan.path, encoding, "" if scan.fmt == "csv" else None)
        try:
            with stream:
                count(stream)
                while stream.buffer.read(CHUNK):  # hash what the counter did not read
                    pass
        except UnicodeDecodeError:
            continue
        scan.encoding, scan.sha256 = encoding, tap.sha.hexdigest()
        return
    if len(tried) == 1:
        raise ImportFileError(f"文件以 {tried[0]} 的字节顺序标记开头，但内容无法按该编码读取；"
                              "请在 Excel 中另存为「CSV UTF-8」后重新导入")
    with scan.path.open("rb") as f:
        guess = _guess_encoding(f.read(1 << 20))
    stream, tap = _text(scan.path, guess, "" if scan.fmt == "csv" else None)
    try:
        with stream:
            count(stream)
            while stream.buffer.read(CHUNK):
                pass
    except (UnicodeDecodeError, LookupError) as exc:
        raise ImportFileError("无法识别文件的文字编码；请在 Excel 中另存为「CSV UTF-8」后重新导入"
                              ) from exc
    scan.encoding, scan.sha256 = guess, tap.sha.hexdigest()


def scan_file(path: str | Path, fmt: str | None = None,
              limits: ImportLimits | None = None) -> FileScan:
    """The first pass over an import file, in bounded memory.

    Args:
        path: a CSV, XLSX or JSON Lines file.
        fmt: force a format instead of using the extension.
        limits: the caps (default :class:`ImportLimits`).

    Returns:
        The :class:`FileScan`.

    Raises:
        ImportFileError: unknown format, missing file, undecodable text, unclosed CSV quote,
            an empty file, or not a workbook.
        ImportLimitError: an XLSX file whose parts unpack past the cap.
    """
    path = Path(path)
    kind = detect_format(path, fmt)
    if not path.is_file():
        raise ImportFileError(f"找不到文件「{path}」")
    limits = limits or ImportLimits()
    scan = FileScan(path, kind, path.stat().st_size, "")
    if kind == "xlsx":
        from data.io.xlsx import check_xlsx

        check_xlsx(scan, limits)
        return scan
    if scan.size == 0:
        raise ImportFileError("文件为空：第 1 行应为表头" if kind == "csv" else "文件为空：没有任何记录")
    _decode_pass(scan, _count_csv(scan) if kind == "csv" else _count_jsonl(scan))
    if not scan.records:
        raise ImportFileError("文件为空：第 1 行应为表头" if kind == "csv" else "文件为空：没有任何记录")
    return scan


def _count_csv(scan: FileScan) -> Any:
    """A counter that checks the CSV quoting and counts records (trailing blanks excluded)."""

    def count(stream: io.TextIOWrapper) -> None:
        first = stream.readline()
        scan.delimiter = "\t" if first.count("\t") > first.count(",") else ","
        reader = csv.reader(_chain(first, stream), delimiter=scan.delimiter, strict=True)
        records = last = 0
        try:
            for row in reader:
                records += 1
                if any(cell.strip() for cell in row):
                    last = records
        except csv.Error as exc:
            raise ImportFileError(
                f"CSV 格式错误（第 {records + 1} 行附近）：引号未闭合或单元格过长（{exc}）。"
                "请在 Excel 中检查该行后另存为 CSV 重新导入") from exc
        scan.records = last

    return count


def _chain(first: str, rest: io.TextIOWrapper) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def _count_jsonl(scan: FileScan) -> Any:
    """A counter that collects the keys of every object and counts lines."""

    def count(stream: io.TextIOWrapper) -> None:
        keys: dict[str, None] = {}
        lines = last = 0
        for line in stream:
            lines += 1
            if not line.strip():
                continue
            last = lines
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue  # reported by iter_jsonl, line by line
            if isinstance(obj, dict):
                keys.update(dict.fromkeys(_flatten(obj)))
        scan.keys, scan.records = list(keys), last

    return count


def iter_csv(scan: FileScan) -> Iterator[list[str]]:
    """The records of a scanned CSV file, one list of cells each (blank lines: ``[]``)."""
    stream, _ = _text(scan.path, scan.encoding or "utf-8", "")
    with stream:
        yield from csv.reader(stream, delimiter=scan.delimiter)


def iter_jsonl(scan: FileScan) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """``(line number, flattened object, "")`` per line of a scanned JSON Lines file.

    A blank line gives ``(n, {}, "")``; a broken line gives ``(n, None, reason)`` with the
    reason in Chinese, and the lines after it are still read.
    """
    stream, _ = _text(scan.path, scan.encoding or "utf-8", None)
    with stream:
        for n, line in enumerate(stream, start=1):
            if scan.records is not None and n > scan.records:
                return
            if not line.strip():
                yield n, {}, ""
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield n, None, f"不是有效的 JSON（第 {exc.colno} 列：{exc.msg}），该行未导入"
                continue
            if not isinstance(obj, dict):
                yield n, None, "应为一个 JSON 对象（{…}），该行未导入"
                continue
            yield n, _flatten(obj), ""


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


def read_table(path: str | Path, fmt: str | None = None) -> Table:
    """Read a small import file into memory, the first row as the header (for tools/tests).

    Args:
        path: a CSV, XLSX or JSON Lines file.
        fmt: force a format instead of using the extension.

    Returns:
        The :class:`Table` with the frame, format, encoding and first row number.

    Raises:
        ImportFileError: unknown format, undecodable text, malformed file or no header.
    """
    scan = scan_file(path, fmt)
    if scan.fmt == "jsonl":
        rows = [obj or {} for _, obj, _ in iter_jsonl(scan)]
        frame = pd.DataFrame(rows, dtype=object)
        return Table(frame.astype(object).where(frame.notna(), ""), "jsonl", scan.encoding, 1)
    if scan.fmt == "xlsx":
        from data.io.xlsx import iter_xlsx

        grid = list(iter_xlsx(scan))
    else:
        grid = list(iter_csv(scan))
    header, *body = grid
    width = len(header)
    frame = pd.DataFrame([(r + [""] * width)[:width] for r in body],
                         columns=[str(h) for h in header], dtype=object)
    return Table(frame, scan.fmt, scan.encoding, 2)
