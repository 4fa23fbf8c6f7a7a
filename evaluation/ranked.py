"""The ``ranked`` evaluation method: hybrid retrieval, then the matcher's full scorer.

For each need: the top :data:`TOP_N` hybrid hits (the shared retriever backend of the run,
so ``hybrid`` and ``ranked`` encode the talents once), then
:meth:`matching.matcher.Matcher.match_need` with the fused default weights: features,
conflict and eligibility rules (hard reasons drop a pair, soft ones lower its score),
score. Pairs outside the re-ranked list score the floor (see
:class:`evaluation.methods.CandidateListMethod`).

Exchange rows carry text, not records, so minimal records are built from them
(:func:`talent_record`, :func:`need_record`): the optional fields of a row (category,
level, title, chains, hometown_county, current_city, organisation, intent,
months_per_year, updated_at; a need's kind, chain, county, required_expertise,
min_months, min_title, eligibility …) are used when present and valid, and dropped one by
one when they do not validate, so features degrade to their neutral values instead of
failing. A talent's disciplines and research directions are read from the 「学科：…」 and
「研究方向：…」 parts of its text (the whole text when it has neither).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from data.records import ID_RE, Achievement, Challenge, Need, NeedKind, Record, Talent
from evaluation.methods import (
    CandidateListMethod,
    Method,
    Ranking,
    RetrieverBackend,
    Row,
    _backend,
    register_method,
)
from matching.matcher import Matcher
from matching.tables import MatchingTables

TOP_N = 200
TALENT_FIELDS = ("category", "level", "title", "chains", "hometown_county", "current_city",
                 "organisation", "intent", "months_per_year", "updated_at", "ties",
                 "nationality", "led_projects", "avoid", "relatives", "city")
NEED_FIELDS = ("enterprise_id", "chain", "county", "required_expertise", "min_months",
               "min_title", "min_level", "full_time", "budget", "city", "avoid")
CHALLENGE_FIELDS = ("list_no", "funding", "eligibility")
_PART_RE = {"disciplines": re.compile(r"学科[：:]([^。]*)"),
            "research_directions": re.compile(r"研究方向[：:]([^。]*)")}


def _validated(model: type[Record], fields: dict[str, Any], required: set[str]) -> Any:
    """Validate, dropping each optional field that fails until the record validates."""
    fields = {k: v for k, v in fields.items() if v is not None}
    while True:
        try:
            return model.model_validate(fields)
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]} - required
            if not bad & set(fields):
                raise
            for key in bad:
                fields.pop(key, None)


def talent_record(row: Mapping[str, Any]) -> Talent:
    """A minimal talent from a ``talents.jsonl`` row (see the module doc).

    Args:
        row: the exchange row.

    Returns:
        The talent (category "" when the row has none: kind fit is then neutral).
    """
    text = str(row.get("text") or "")
    fields: dict[str, Any] = {"id": safe_id(row["id"]), "name": str(row.get("name") or row["id"]),
                              "category": str(row.get("category") or "")}
    for key, pattern in _PART_RE.items():
        m = pattern.search(text)
        if m:
            fields[key] = m.group(1)
    if "disciplines" not in fields and "research_directions" not in fields and text:
        fields["research_directions"] = [text]
    fields["achievements"] = [
        Achievement(title=str(i.get("title") or i.get("text"))[:300],
                    text=str(i.get("text") or "")[:4000], year=_year(i.get("year")))
        for i in row.get("items") or [] if i.get("title") or i.get("text")]
    fields.update({k: row[k] for k in TALENT_FIELDS if row.get(k) not in (None, "", [])})
    return _validated(Talent, fields, {"id", "name", "category"})


def safe_id(value: Any) -> str:
    """The row's id when it is a valid record id, else a stable stand-in (``x-`` + hash).

    Exchange files may use ids such as ``13&ZD150``; results are keyed by the row's own id,
    so the record's id only has to be valid and unique.
    """
    text = str(value)
    if ID_RE.match(text):
        return text
    return "x-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def _year(value: Any) -> int | None:
    """An item's year when it is a plausible one (1950–2100), else None."""
    try:
        year = int(value)
    except (TypeError, ValueError):
        return None
    return year if 1950 <= year <= 2100 else None


def need_record(row: Mapping[str, Any], tables: MatchingTables | None = None) -> Need:
    """A minimal need (a challenge when the row has a list number or eligibility).

    Args:
        row: the ``needs.jsonl`` row.
        tables: matching tables (to read a kind given as its Chinese label).

    Returns:
        The need or challenge (kind 技术攻关 when the row has none).
    """
    fields: dict[str, Any] = {"id": safe_id(row["id"]),
                              "title": str(row.get("title") or row["id"]),
                              "description": str(row.get("text") or ""),
                              "kind": _kind(row.get("kind"), tables)}
    fields.update({k: row[k] for k in NEED_FIELDS if row.get(k) not in (None, "", [])})
    if any(row.get(k) for k in CHALLENGE_FIELDS):
        fields.update({k: row[k] for k in CHALLENGE_FIELDS if row.get(k)})
        return _validated(Challenge, fields, {"id", "title", "kind"})
    return _validated(Need, fields, {"id", "title", "kind"})


def _kind(value: Any, tables: MatchingTables | None) -> str:
    text = str(value or "").strip()
    if text in NeedKind.__members__:
        return text
    labels = {v: k for k, v in (tables.kind_labels if tables else {}).items()}
    return labels.get(text, NeedKind.tech.value)


class RankedMethod(CandidateListMethod):
    """Hybrid top-N re-ranked by the matcher (fused weights, rules on).

    Args:
        backend: the run's shared retriever backend.
        top_n: hits re-ranked per need (also the pair depth).
        weights: fused weights (default: the scorer's defaults).
        tables: matching tables (default: from the bundled taxonomy).
        apply_rules: apply conflict and eligibility rules.
        name: the method's name in the report.
    """

    def __init__(self, backend: RetrieverBackend, top_n: int = TOP_N,
                 weights: Mapping[str, float] | None = None,
                 tables: MatchingTables | None = None, apply_rules: bool = True,
                 name: str = "ranked") -> None:
        super().__init__(name, pair_depth=top_n)
        self.backend = backend
        backend.needs_encoder = True
        self.weights = weights
        self.tables = tables
        self.apply_rules = apply_rules
        self._records_for: Sequence[Row] | None = None
        self._records: dict[str, Talent] = {}
        self._matcher: Matcher | None = None

    def _prepare(self, talents: Sequence[Row]) -> Matcher:
        if self._records_for is not talents or self._matcher is None:
            if self.tables is None:
                from data.taxonomy import load_taxonomy

                self.tables = MatchingTables.from_taxonomy(load_taxonomy())
            self._records = {str(t["id"]): talent_record(t) for t in talents}
            stamps = [t.updated_at for t in self._records.values() if t.updated_at]
            now = max(stamps, key=datetime.timestamp) if stamps else None
            self._matcher = Matcher(self.tables, self.weights, now=now)
            self._records_for = talents
        return self._matcher

    def candidates(self, needs: Sequence[Row], talents: Sequence[Row], depth: int) -> Ranking:
        """Re-ranked candidates of each need.

        Args:
            needs: need rows.
            talents: talent rows.
            depth: hybrid hits re-ranked per need.

        Returns:
            ``{need_id: [(talent_id, score), ...]}``, best first (dropped pairs left out).
        """
        matcher = self._prepare(talents)
        retriever = self.backend.retriever(talents)
        results = retriever.search_batch(self.backend.queries(needs), depth, "hybrid")
        out: Ranking = {}
        for row, hits in zip(needs, results, strict=True):
            need = need_record(row, self.tables)
            cands = matcher.candidates(need, hits, self._records)
            result = matcher.rank(need, cands, self._records, None, apply_rules=self.apply_rules)
            out[str(row["id"])] = [(m.talent_id, m.score) for m in result.matches]
        return out


def ranked_factory(*, encoder: str, shared: dict[str, Any]) -> Method:
    """Factory of the ``ranked`` method (shares the run's retriever backend).

    Args:
        encoder: encoder name.
        shared: the run's shared state.

    Returns:
        The method.
    """
    return RankedMethod(_backend(shared, encoder))


register_method("ranked", ranked_factory)
