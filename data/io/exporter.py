"""Export records to CSV (UTF-8 with BOM, for Excel), XLSX or JSON Lines.

CSV and XLSX use the Chinese headers of :mod:`data.columns`; lists are joined with ``、``,
主要成果 is written by :func:`data.columns.format_achievements`, booleans as 是/否 and coded
vocabulary values (need kind, project status) by their Chinese label, so a user can edit the
file and import it again. JSON Lines holds one record per line with the English field names
and canonical codes. Contact columns (手机, 邮箱, 微信) are written only when
``include_contacts=True``; otherwise they are absent entirely.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd

from data.columns import COLUMNS, Column, format_achievements
from data.io.formulas import is_risky, neutralise, neutralise_frame
from data.io.headers import ENTITY_LABELS, model_of
from data.io.readers import detect_format
from data.records import Achievement, Contact, Record
from data.taxonomy import COMMON_VOCABS, Taxonomy, load_taxonomy

MAX_WIDTH = 60
MIN_WIDTH = 8
WIDTH_SAMPLE = 500


def export_records(records: Iterable[Record | Mapping[str, Any]], entity: str, path: str | Path,
                   *, fmt: str | None = None, include_contacts: bool = False,
                   contacts: Mapping[str, Contact | Mapping[str, Any] | None] | None = None,
                   taxonomy: Taxonomy | None = None) -> Path:
    """Write ``records`` of ``entity`` to ``path``.

    Args:
        records: records (or dicts that the entity model accepts).
        entity: ``talents``, ``enterprises``, ``needs``, ``challenges`` or ``projects``.
        path: the output file; its extension picks the format unless ``fmt`` is given.
        fmt: ``csv``, ``xlsx`` or ``jsonl``.
        include_contacts: write the private contact columns (only for callers allowed to
            see them). Without it the columns are absent, not merely empty.
        contacts: record id → contact; when None, a record's own ``contact`` field is used.
        taxonomy: for the Chinese labels of coded values (default: the bundled taxonomy).

    Returns:
        The path written.
    """
    path = Path(path)
    kind = detect_format(path, fmt)
    model = model_of(entity)
    items = [r if isinstance(r, Record) else model.model_validate(r) for r in records]
    if kind == "jsonl":
        _write_jsonl(items, path, include_contacts, contacts)
        return path
    frame = records_frame(items, entity, include_contacts=include_contacts, contacts=contacts,
                          taxonomy=taxonomy)
    if kind == "csv":
        neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8-sig")
    else:
        _write_xlsx(frame, path, ENTITY_LABELS[entity])
    return path


def export_columns(entity: str, include_contacts: bool = False) -> list[Column]:
    """The columns written for ``entity``: private ones only with ``include_contacts``."""
    model_of(entity)
    return [c for c in COLUMNS[entity] if include_contacts or not c.private]


def records_frame(records: Iterable[Record], entity: str, *, include_contacts: bool = False,
                  contacts: Mapping[str, Any] | None = None,
                  taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Records as a DataFrame with Chinese headers, cells as a user should see them.

    Args:
        records: the records.
        entity: the entity name.
        include_contacts: add the contact columns.
        contacts: record id → contact (else the record's own ``contact``).
        taxonomy: for labels of coded values.

    Returns:
        One row per record, one column per exported column.
    """
    columns = export_columns(entity, include_contacts)
    labels = _labels(taxonomy, columns)
    rows = []
    for record in records:
        contact = _contact_of(record, contacts) if include_contacts else None
        rows.append([_cell(_value(record, c.field, contact), c, labels) for c in columns])
    return pd.DataFrame(rows, columns=[c.zh for c in columns], dtype=object)


def _labels(taxonomy: Taxonomy | None, columns: list[Column]) -> dict[str, dict[str, str]]:
    """Canonical code → Chinese label for the coded common vocabularies used by columns."""
    vocabs = {c.vocab for c in columns if c.vocab in COMMON_VOCABS}
    if not vocabs:
        return {}
    tax = taxonomy or load_taxonomy()
    out: dict[str, dict[str, str]] = {}
    for vocab in vocabs:
        entries = tax.common[str(vocab)].entries
        out[str(vocab)] = {str(e["name"]): str(e["label"]) for e in entries if "label" in e}
    return out


def _contact_of(record: Record, contacts: Mapping[str, Any] | None) -> Contact | None:
    """The contact of a record, from the mapping when given, else its own field."""
    raw = contacts.get(str(getattr(record, "id", ""))) if contacts is not None else getattr(
        record, "contact", None)
    if raw is None or isinstance(raw, Contact):
        return raw
    return Contact.model_validate(raw)


def _value(record: Record, dotted: str, contact: Contact | None) -> Any:
    """A (dotted) field of a record; ``contact.*`` comes from ``contact``."""
    head, _, rest = dotted.partition(".")
    obj: Any = contact if head == "contact" else getattr(record, head, None)
    if rest:
        obj = getattr(obj, rest, None) if obj is not None else None
    return obj


def _cell(value: Any, column: Column, labels: dict[str, dict[str, str]]) -> Any:
    """One value as a spreadsheet cell."""
    if value is None:
        return ""
    if isinstance(value, list):
        if value and isinstance(value[0], Achievement):
            return format_achievements(value)
        return "、".join(str(_cell(v, column, labels)) for v in value)
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and column.vocab in labels:
        return labels[column.vocab].get(value, value)
    if isinstance(value, tuple):
        return "、".join(str(v) for v in value)
    return value


def _write_jsonl(records: list[Record], path: Path, include_contacts: bool,
                 contacts: Mapping[str, Any] | None) -> None:
    """One JSON object per line, English field names; ``contact`` only when asked for."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for record in records:
            data = record.model_dump(mode="json", exclude={"contact"})
            if include_contacts:
                contact = _contact_of(record, contacts)
                if contact is not None:
                    data["contact"] = contact.model_dump(mode="json")
            out.write(json.dumps(data, ensure_ascii=False) + "\n")


def _write_xlsx(frame: pd.DataFrame, path: Path, sheet: str) -> None:
    """A one-sheet workbook (see :func:`write_sheets`)."""
    write_sheets({sheet: frame}, path)


def write_sheets(frames: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """A workbook with one sheet per frame, each with a bold, frozen header row.

    Written in openpyxl's streaming (write-only) mode: empty cells are skipped, text that
    starts with ``= + - @`` stays text instead of becoming a formula (a string cell with the
    quote prefix, see :mod:`data.io.formulas`), and column widths are fitted
    to the (CJK-aware) display width of the first rows.

    Args:
        frames: sheet name → table, in sheet order.
        path: the output file.

    Returns:
        The path written.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet, frame in frames.items():
        ws = wb.create_sheet(sheet)
        ws.freeze_panes = "A2"
        for index, name in enumerate(frame.columns, start=1):
            sample = [name, *frame[name].head(WIDTH_SAMPLE).tolist()]
            width = max(_display_width(str(v)) for v in sample) + 2
            ws.column_dimensions[get_column_letter(index)].width = min(max(width, MIN_WIDTH),
                                                                       MAX_WIDTH)
        header = []
        for name in frame.columns:
            cell = WriteOnlyCell(ws, value=str(name))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in frame.itertuples(index=False, name=None):
            ws.append([_xlsx_cell(ws, v) for v in row])
    wb.save(Path(path))
    return Path(path)


def _xlsx_cell(ws: Any, value: Any) -> Any:
    """A value for a write-only row: None for empty, a quoted text cell for risky strings."""
    if value == "" or value is None:
        return None
    if is_risky(value):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return neutralise(value)  # only ``'=…`` text changes: one more apostrophe


def _display_width(text: str) -> int:
    """Width of text in a spreadsheet: CJK characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
