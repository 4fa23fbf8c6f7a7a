"""Write a generated sample: import CSVs (Chinese headers), talents.xlsx, and the exchange files.

CSV cells follow :mod:`data.columns`: lists joined with ``、``, 主要成果 via
:func:`data.columns.format_achievements`, dates in ISO form. Categorical cells use the
canonical name or, for some rows, an accepted alias from the taxonomy (as real imports do),
so every cell resolves through :meth:`data.taxonomy.Taxonomy.resolve`.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from data.columns import COLUMNS, Column, format_achievements
from data.io.exchange import write_jsonl, write_qrels
from data.records import Achievement, Need, Record, Talent
from data.sample.generator import SampleData
from data.taxonomy import Taxonomy, load_taxonomy

ALIAS_RATE = 0.2
"""Share of categorical cells written as an alias instead of the canonical name."""


class _Aliaser:
    """Picks the canonical name or an accepted alias for categorical cells."""

    def __init__(self, taxonomy: Taxonomy, city: str, rng: random.Random) -> None:
        self.rng = rng
        self.choices: dict[tuple[str, str], list[str]] = {}
        vocabs = {v: taxonomy.vocabulary(v, city) for v in
                  ("category", "level", "need_kind", "intent", "tie", "title",
                   "project_status", "county", "chain")}
        for vocab, voc in vocabs.items():
            for e in voc.entries:
                alts = [*map(str, e.get("aliases", [])), *([e["label"]] if "label" in e else [])]
                self.choices[(vocab, str(e["name"]))] = alts
        city_obj = taxonomy.city(city)
        self.choices[("city", city_obj.name)] = [a for a in city_obj.aliases if a.isascii() is False]

    def __call__(self, vocab: str, value: str) -> str:
        alts = self.choices.get((vocab, value))
        if vocab in ("need_kind", "project_status") and alts:
            return alts[-1] if self.rng.random() > ALIAS_RATE else self.rng.choice(alts)
        if not alts or self.rng.random() > ALIAS_RATE:
            return value
        return self.rng.choice(alts)


def _plain(value: Any) -> str:
    """Cell text of a scalar."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _get(record: Record, dotted: str) -> Any:
    obj: Any = record
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _cell(record: Record, col: Column, alias: _Aliaser) -> str:
    value = _get(record, col.field)
    if col.field == "achievements":
        return format_achievements(value or [])
    if isinstance(value, list | tuple):
        items = [alias(col.vocab, str(v)) if col.vocab else _plain(v) for v in value]
        return "、".join(items)
    if col.vocab and value is not None:
        return alias(col.vocab, _plain(value))
    return _plain(value)


def _noise(rng: random.Random, row: list[str], fields: list[str]) -> list[str]:
    """Stray spaces in a few free-text cells, as in hand-typed sheets."""
    if rng.random() < 0.03:
        for i, f in enumerate(fields):
            if f in ("name", "organisation", "title", "position") and row[i]:
                row[i] = f" {row[i]}  " if rng.random() < 0.5 else row[i] + " "
    return row


def table(records: Iterable[Record], entity: str, alias: _Aliaser) -> tuple[list[str], list[list[str]]]:
    """Headers (Chinese) and cell rows of one entity.

    Args:
        records: the records.
        entity: a key of :data:`data.columns.COLUMNS`.
        alias: the alias picker.

    Returns:
        (headers, rows).
    """
    cols = COLUMNS[entity]
    fields = [c.field for c in cols]
    rows = [_noise(alias.rng, [_cell(r, c, alias) for c in cols], fields) for r in records]
    return [c.zh for c in cols], rows


def write_csv(path: Path, headers: list[str], rows: list[list[str]]) -> None:
    """Write a UTF-8 (with BOM) CSV file, as Excel expects for Chinese text."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        w.writerows(rows)


def talent_text(t: Talent) -> str:
    """Profile text of a talent: organisation, position, title, disciplines, directions."""
    head = "".join(x for x in (t.organisation, t.position) if x)
    parts = [head + (f"，{t.title}" if t.title else "")] if head or t.title else []
    if t.disciplines:
        parts.append("学科：" + "、".join(t.disciplines))
    if t.research_directions:
        parts.append("研究方向：" + "、".join(t.research_directions))
    return "。".join(p.lstrip("，") for p in parts) + "。"


def _item(a: Achievement) -> dict[str, Any]:
    return {"title": a.title, "text": a.text, "year": a.year, "kind": a.kind}


def talent_row(t: Talent) -> dict[str, Any]:
    """One ``talents.jsonl`` line: id, name, text, items and optional public fields."""
    return {
        "id": t.id, "name": t.name, "text": talent_text(t),
        "items": [_item(a) for a in t.achievements],
        "category": t.category, "level": t.level, "title": t.title, "chains": t.chains,
        "hometown_county": t.hometown_county, "current_city": t.current_city,
        "organisation": t.organisation, "intent": t.intent,
        "months_per_year": t.months_per_year, "updated_at": t.updated_at,
    }


def need_text(n: Need) -> str:
    """Text of a need: title, description, required expertise and chain."""
    parts = [n.title, n.description]
    if n.required_expertise:
        parts.append("所需专长：" + "、".join(n.required_expertise) + "。")
    if n.chain:
        parts.append(f"产业链：{n.chain}。")
    return "。".join([parts[0], "".join(parts[1:])])


def need_row(n: Need) -> dict[str, Any]:
    """One ``needs.jsonl`` line: id, title, text and optional record fields."""
    row = {"id": n.id, "title": n.title, "text": need_text(n), "kind": str(n.kind.value),
           "enterprise_id": n.enterprise_id, "chain": n.chain, "county": n.county,
           "required_expertise": n.required_expertise, "budget": n.budget,
           "deadline": n.deadline, "min_months": n.min_months, "min_title": n.min_title}
    list_no = getattr(n, "list_no", None)
    if list_no:
        row["list_no"] = list_no
        row["eligibility"] = n.eligibility.model_dump(mode="json")  # type: ignore[attr-defined]
    return row


def write_sample(data: SampleData, out_dir: Path | str, xlsx: bool = True,
                 taxonomy: Taxonomy | None = None) -> dict[str, Path]:
    """Write every file of a sample into ``out_dir``.

    Args:
        data: the generated sample.
        out_dir: the folder (created if missing).
        xlsx: also write ``talents.xlsx`` (slow for very large samples).
        taxonomy: the taxonomy used for aliases (default: the bundled files).

    Returns:
        File name -> path of each file written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    alias = _Aliaser(taxonomy or load_taxonomy(), data.city, random.Random(f"csv-{data.seed}"))
    written: dict[str, Path] = {}
    for entity, records in (("talents", data.talents), ("enterprises", data.enterprises),
                            ("needs", data.needs), ("challenges", data.challenges),
                            ("projects", data.projects)):
        headers, rows = table(records, entity, alias)
        write_csv(out / f"{entity}.csv", headers, rows)
        written[f"{entity}.csv"] = out / f"{entity}.csv"
        if entity == "talents" and xlsx:
            _write_xlsx(out / "talents.xlsx", headers, rows)
            written["talents.xlsx"] = out / "talents.xlsx"
    write_jsonl(out / "talents.jsonl", (talent_row(t) for t in data.talents))
    write_jsonl(out / "needs.jsonl", (need_row(n) for n in data.all_needs()))
    write_qrels(out / "qrels.tsv", data.qrels)
    for name in ("talents.jsonl", "needs.jsonl", "qrels.tsv"):
        written[name] = out / name
    return written


def _write_xlsx(path: Path, headers: list[str], rows: list[list[str]]) -> None:
    """Write one sheet with Chinese headers (openpyxl write-only mode, fixed timestamps)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.properties.created = wb.properties.modified = datetime(2026, 1, 1)
    ws = wb.create_sheet("人才")
    ws.append(headers)
    for row in rows:
        ws.append(row)
    wb.save(path)
