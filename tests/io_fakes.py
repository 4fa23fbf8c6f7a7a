"""Shared by the import/export tests: an in-memory store and a fixture-city taxonomy."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data.records import Record
from data.taxonomy import Taxonomy

FIXTURES = Path(__file__).parent / "fixtures"
COMMON_YAML = Path(__file__).resolve().parents[1] / "data" / "taxonomy" / "common.yaml"


@dataclass
class UpsertResult:
    """What the fake store returns, like data.store's UpsertResult."""

    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


class MemoryStore:
    """An in-memory sink that detects unchanged records by content hash, like the store."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.hashes: dict[tuple[str, str], str] = {}
        self.calls = 0

    def upsert(self, entity: str, records: Sequence[Record]) -> UpsertResult:
        self.calls += 1
        result = UpsertResult()
        for record in records:
            rid = str(record.id)  # type: ignore[attr-defined]
            digest = hashlib.sha256(json.dumps(record.model_dump(mode="json"),
                                               sort_keys=True).encode()).hexdigest()
            old = self.hashes.get((entity, rid))
            bucket = (result.inserted if old is None
                      else result.unchanged if old == digest else result.updated)
            bucket.append(rid)
            self.hashes[(entity, rid)] = digest
            self.records.setdefault(entity, {})[rid] = record
        return result


def fixture_taxonomy(folder: Path) -> Taxonomy:
    """common.yaml plus the fixture cities (平顶山, 南阳), independent of the bundled cities."""
    (folder / "cities").mkdir()
    shutil.copy(COMMON_YAML, folder / "common.yaml")
    for city in (FIXTURES / "cities").glob("*.yaml"):
        shutil.copy(city, folder / "cities" / city.name)
    return Taxonomy.load(folder)
