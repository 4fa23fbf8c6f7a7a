"""The evaluation exchange format: ``needs.jsonl``, ``talents.jsonl`` and ``qrels.tsv``.

- ``needs.jsonl``: one JSON object a line, ``{"id", "title", "text", …optional fields}``.
- ``talents.jsonl``: one JSON object a line,
  ``{"id", "name", "text", "items": [{"title", "text", "year"}], …optional fields}``;
  ``items`` (achievements, papers …) may be left out.
- ``qrels.tsv``: ``need_id<TAB>talent_id<TAB>relevance`` a line, relevance a non-negative
  number (graded; > 0 means relevant). A header line ``need_id talent_id relevance`` and TREC
  style four-column lines (``need_id 0 talent_id relevance``) are accepted too.

Readers raise :class:`ExchangeFormatError` naming the file and the line of the first problem.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any


class ExchangeFormatError(ValueError):
    """Malformed exchange input; the message names the file and the line."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


def _objects(path: Path | str) -> Iterable[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSON Lines file."""
    with open(path, encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ExchangeFormatError(path, lineno, f"不是有效的 JSON（{exc.msg}）") from exc
            if not isinstance(obj, dict):
                raise ExchangeFormatError(path, lineno, "每行应为一个 JSON 对象")
            yield lineno, obj


def _require_str(path: Path | str, lineno: int, obj: Mapping[str, Any], key: str,
                 allow_empty: bool = False) -> None:
    value = obj.get(key)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ExchangeFormatError(path, lineno, f"字段「{key}」缺失或不是非空字符串")


def _check_unique(path: Path | str, lineno: int, seen: set[str], rid: str) -> None:
    if rid in seen:
        raise ExchangeFormatError(path, lineno, f"编号「{rid}」重复")
    seen.add(rid)


def read_needs(path: Path | str) -> list[dict[str, Any]]:
    """Read ``needs.jsonl``.

    Args:
        path: the file.

    Returns:
        One dict a need, in file order, each with at least id, title and text.

    Raises:
        ExchangeFormatError: a line is not a JSON object, lacks id / title / text, or repeats
            an id.
    """
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for lineno, obj in _objects(path):
        _require_str(path, lineno, obj, "id")
        _require_str(path, lineno, obj, "title", allow_empty=True)
        _require_str(path, lineno, obj, "text", allow_empty=True)
        _check_unique(path, lineno, seen, obj["id"])
        rows.append(obj)
    return rows


def _check_items(path: Path | str, lineno: int, items: Any) -> list[dict[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise ExchangeFormatError(path, lineno, "字段「items」应为对象列表")
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("title"), str):
            raise ExchangeFormatError(path, lineno, f"items 第 {n} 项缺少字符串字段「title」")
        if not isinstance(item.get("text", ""), str):
            raise ExchangeFormatError(path, lineno, f"items 第 {n} 项的「text」应为字符串")
        year = item.get("year")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
            raise ExchangeFormatError(path, lineno, f"items 第 {n} 项的「year」应为整数或 null")
    return items


def read_talents(path: Path | str) -> list[dict[str, Any]]:
    """Read ``talents.jsonl``.

    Args:
        path: the file.

    Returns:
        One dict a talent, in file order, each with id, name, text and items (a list).

    Raises:
        ExchangeFormatError: a line is not a JSON object, lacks id / name / text, has
            malformed items, or repeats an id.
    """
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for lineno, obj in _objects(path):
        _require_str(path, lineno, obj, "id")
        _require_str(path, lineno, obj, "name")
        _require_str(path, lineno, obj, "text", allow_empty=True)
        obj["items"] = _check_items(path, lineno, obj.get("items"))
        _check_unique(path, lineno, seen, obj["id"])
        rows.append(obj)
    return rows


def _relevance(path: Path | str, lineno: int, text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise ExchangeFormatError(path, lineno, f"相关度「{text}」不是数字") from exc
    if not math.isfinite(value) or value < 0:
        raise ExchangeFormatError(path, lineno, f"相关度「{text}」应为非负数")
    return value


def read_qrels(path: Path | str) -> dict[str, dict[str, float]]:
    """Read ``qrels.tsv``.

    Args:
        path: the file.

    Returns:
        need id -> talent id -> relevance (zeros kept; > 0 means relevant).

    Raises:
        ExchangeFormatError: wrong number of columns, a relevance that is not a non-negative
            number, or a repeated (need, talent) pair.
    """
    qrels: dict[str, dict[str, float]] = {}
    with open(path, encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\r\n").split("\t") if "\t" in line else line.split()
            if len(cols) == 4:  # TREC: need_id iteration talent_id relevance
                cols = [cols[0], cols[2], cols[3]]
            if len(cols) != 3 or not cols[0].strip() or not cols[1].strip():
                raise ExchangeFormatError(
                    path, lineno, "应为三列：need_id<TAB>talent_id<TAB>relevance")
            need_id, talent_id, rel = (c.strip() for c in cols)
            if lineno == 1 and rel.lower() in ("relevance", "rel", "grade", "相关度"):
                continue
            value = _relevance(path, lineno, rel)
            row = qrels.setdefault(need_id, {})
            if talent_id in row:
                raise ExchangeFormatError(path, lineno, f"({need_id}, {talent_id}) 重复")
            row[talent_id] = value
    return qrels


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_jsonl(path: Path | str, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write rows as JSON Lines (UTF-8, no ASCII escaping).

    Args:
        path: the file to write (replaced).
        rows: dicts; dates and pydantic models are serialised.

    Returns:
        The number of lines written.
    """
    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=_default))
            fh.write("\n")
            n += 1
    return n


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def write_qrels(path: Path | str, qrels: Mapping[str, Mapping[str, float]]) -> int:
    """Write ``qrels.tsv``: need id, talent id, relevance; best grades first per need.

    Args:
        path: the file to write (replaced).
        qrels: need id -> talent id -> relevance (non-negative).

    Returns:
        The number of lines written.

    Raises:
        ValueError: a negative or non-finite relevance.
    """
    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for need_id, row in qrels.items():
            for talent_id, rel in sorted(row.items(), key=lambda kv: (-kv[1], kv[0])):
                if not math.isfinite(rel) or rel < 0:
                    raise ValueError(f"相关度应为非负数：({need_id}, {talent_id}) = {rel}")
                fh.write(f"{need_id}\t{talent_id}\t{_fmt(rel)}\n")
                n += 1
    return n
