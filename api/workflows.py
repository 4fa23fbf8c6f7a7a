"""Matching workflows of the application: match, leads, pairing runs, event shortlists.

Each method reads what it needs from the store and the serving index, calls the domain code
in ``matching/`` and returns plain, JSON-ready dicts (the CLI prints them; the HTTP API will
return them). Nothing here is an algorithm.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.services.errors import EncoderMismatch
from api.services.errors import NotFound as _NotFound
from api.typed import each, many, one
from api.workflow_rows import (
    city_edges,
    in_event,
    match_dict,
    opportunity_dict,
    plain,
    shortlist_params,
    suggestion,
)
from data.records import (
    Challenge,
    Enterprise,
    Event,
    Need,
    NeedStatus,
    Project,
    Talent,
)

if TYPE_CHECKING:
    from api.application import Application
    from api.record_cache import RecordCache
    from embeddings.corpus import Hit
    from embeddings.index import SearchIndex
    from matching.matcher import Matcher, MatchResult

RETRIEVE_K = 200
"""Talents retrieved per need before the matcher re-ranks them."""


class NotFound(_NotFound):
    """A record id that the store does not hold (404; one of the domain errors of
    :mod:`api.services.errors`)."""

    def __init__(self, what: str, id: str) -> None:
        super().__init__(what, id)


KNOWN_TALENTS_MAX = 20_000
"""Talents a batch over many needs keeps read at most (then it starts afresh)."""


def release_free_heap() -> None:
    """Hand the heap's free memory back to the OS (glibc ``malloc_trim``; elsewhere nothing).

    Loading the index allocates and frees several hundred MB of temporaries; without this the
    process keeps much of it resident for its whole life.
    """
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@dataclass
class Workflows:
    """Matching workflows over one application (store, index, taxonomy, settings)."""

    app: Application
    _index: SearchIndex | None = field(default=None, init=False, repr=False)
    _matcher: Matcher | None = field(default=None, init=False, repr=False)
    _talents: RecordCache | None = field(default=None, init=False, repr=False)

    # -- shared pieces ----------------------------------------------------------------------
    @property
    def index(self) -> SearchIndex:
        """The serving search index (loaded once).

        Raises:
            IndexNotBuilt: no index version is serving (503).
            EncoderMismatch: the index was built with another encoder than the configured
                one (409, with the command that rebuilds it).
        """
        if self._index is None:
            builder = self.app.index_builder()
            built_with = builder.folder.manifest().get("encoder")
            if built_with != builder.encoder.id:
                raise EncoderMismatch(built_with, builder.encoder.id)
            self._index = builder.load()
            release_free_heap()
        return self._index

    @property
    def matcher(self) -> Matcher:
        """The matcher: fused weights, or the trained ranker when one is in use."""
        if self._matcher is None:
            from matching.matcher import Matcher
            from matching.tables import MatchingTables

            tables = MatchingTables.from_taxonomy(self.app.taxonomy)
            self._matcher = Matcher(tables, weights=self.app.settings.ranking_weights,
                                    ranker=self.app.ranker())
        return self._matcher

    @property
    def talent_cache(self) -> RecordCache:
        """Talents read for single matches, kept while their stored content is unchanged."""
        if self._talents is None:
            from api.record_cache import RecordCache

            self._talents = RecordCache(self.app.store, "talents")
        return self._talents

    def need(self, need_id: str) -> Need:
        """A need or challenge by id."""
        store = self.app.store
        found = one(Need, store.get("needs", need_id) or store.get("challenges", need_id))
        if found is None:
            raise NotFound("需求", need_id)
        return found

    def ranked(self, need: Need, k: int, known: dict[str, Talent] | None = None,
               hits: Sequence[Hit] | None = None) -> tuple[MatchResult, dict[str, Talent]]:
        """The matcher's top ``k`` of the talents retrieved for ``need``, and those talents.

        Args:
            need: a need or challenge record.
            k: how many matches.
            known: talents already read in this batch (id → talent); the ones read here are
                added to it, so a run over many needs reads each talent once.
            hits: the need's retrieval hits when already retrieved (in a batch).

        Returns:
            (the match result, talent id → talent of every retrieved talent).
        """
        from embeddings.render import need_text

        if hits is None:
            hits = self.index.talents_for(need_text(need), k=RETRIEVE_K)
        ids = [h.id for h in hits]
        if known is None:
            talents = many(Talent, self.talent_cache.get_many(ids))
        else:
            if len(known) + len(ids) > KNOWN_TALENTS_MAX:
                known.clear()  # bounded: a province-wide run does not keep every talent
            missing = [i for i in ids if i not in known]
            known.update(many(Talent, self.app.store.get_many("talents", missing)))
            talents = {i: known[i] for i in ids if i in known}
        enterprise = (one(Enterprise, self.app.store.get("enterprises", need.enterprise_id))
                      if need.enterprise_id else None)
        return self.matcher.match_need(need, hits, talents, enterprise, k=k), talents

    # -- match ------------------------------------------------------------------------------
    def match_need(self, need_id: str, k: int = 20) -> dict[str, Any]:
        """Talents for a need, ranked and explained (no contact data).

        Args:
            need_id: a need or challenge id.
            k: how many matches.

        Returns:
            ``{"need": {...}, "scorer": …, "strength": "ok" | "weak" | "none" | "",
            "strength_zh": 匹配较弱 / 无合适人选 / "", "best_probability", "matches": [...],
            "dropped": [...]}`` (strength only with a calibrated scorer).
        """
        need = self.need(need_id)
        result, talents = self.ranked(need, k)
        return {
            "need": {"id": need.id, "title": need.title, "kind": str(need.kind),
                     "work_group": need.work_group.value, "chain": need.chain},
            "scorer": result.scorer,
            "strength": result.strength,
            "strength_zh": result.strength_zh,
            "best_probability": (None if result.best_probability is None
                                 else round(result.best_probability, 4)),
            "top10_chance": None if result.coverage is None else round(result.coverage, 4),
            "matches": [match_dict(m, talents.get(m.talent_id)) for m in result.matches],
            "dropped": [{"talent_id": d.talent_id, "reasons": [r.text for r in d.reasons]}
                        for d in result.dropped],
        }

    def match_talent(self, talent_id: str, k: int = 20) -> dict[str, Any]:
        """Needs and 归根 projects for a talent, ranked and explained.

        Args:
            talent_id: a talent id.
            k: how many of each.

        Returns:
            ``{"talent": {...}, "needs": [...], "projects": [...], "dropped": [...]}``.
        """
        from embeddings.render import talent_texts

        talent = one(Talent, self.app.store.get("talents", talent_id))
        if talent is None:
            raise NotFound("人才", talent_id)
        profile, items = talent_texts(talent)
        hits = self.index.needs_for(profile, items, k=RETRIEVE_K)
        needs: dict[str, Need] = {}
        for entity in ("needs", "challenges"):
            needs.update(many(Need, self.app.store.get_many(entity, [h.id for h in hits])))
        enterprises = many(Enterprise, self.app.store.get_many(
            "enterprises", [n.enterprise_id for n in needs.values() if n.enterprise_id]))
        projects = each(Project, self.app.store.iter("projects"))
        found = self.matcher.needs_for_talent(talent, hits, needs, enterprises, projects, k=k)
        return {
            "talent": {"id": talent.id, "name": talent.name, "category": talent.category,
                       "hometown_county": talent.hometown_county},
            "needs": [opportunity_dict(o) for o in found.needs],
            "projects": [opportunity_dict(o) for o in found.projects],
            "dropped": [{"need_id": n, "reasons": [r.text for r in rs]}
                        for n, rs in found.dropped],
        }

    # -- 揭榜挂帅 ---------------------------------------------------------------------------
    def leads(self, challenge_id: str, n_leads: int = 10) -> dict[str, Any]:
        """Eligible leads (揭榜人) and a proposed team for a challenge.

        Args:
            challenge_id: a challenge id.
            n_leads: how many leads to list.

        Returns:
            ``{"challenge": {...}, "leads": [...], "team": [...], "covered_terms", "missing_terms"}``.
        """
        from embeddings.render import need_text
        from matching.leads import leads_for_challenge

        challenge = one(Challenge, self.app.store.get("challenges", challenge_id))
        if challenge is None:
            raise NotFound("揭榜挂帅榜单", challenge_id)
        hits = self.index.talents_for(need_text(challenge), k=RETRIEVE_K)
        talents = many(Talent, self.app.store.get_many("talents", [h.id for h in hits]))
        enterprise = (one(Enterprise, self.app.store.get("enterprises", challenge.enterprise_id))
                      if challenge.enterprise_id else None)
        p = leads_for_challenge(self.matcher, challenge, hits, talents, enterprise, n_leads)
        return {
            "challenge": {"id": challenge.id, "title": challenge.title,
                          "list_no": challenge.list_no},
            "leads": [{"talent_id": ld.match.talent_id,
                       "name": getattr(talents.get(ld.match.talent_id), "name", ""),
                       "lead_score": round(float(ld.lead_score), 4),
                       "fit": round(float(ld.fit), 4),
                       "leadership": round(float(ld.leadership), 4), "reason": ld.reason_zh,
                       "explanation": ld.match.explanation} for ld in p.leads],
            "team": [{"talent_id": t.talent_id,
                      "name": getattr(talents.get(t.talent_id), "name", ""), "role": t.role,
                      "adds": list(t.adds), "reason": t.reason_zh} for t in p.team],
            "required_terms": list(p.required_terms), "covered_terms": list(p.covered_terms),
            "missing_terms": list(p.missing_terms),
        }

    # -- pairing ----------------------------------------------------------------------------
    def open_needs(self) -> list[Need]:
        """Every open need and challenge, in id order."""
        out = [n for entity in ("needs", "challenges")
               for n in each(Need, self.app.store.iter(entity))]
        return [n for n in out if n.status == NeedStatus.open]

    def candidate_edges(self, needs: Sequence[Need], k: int,
                        progress: Callable[[Iterable[Any]], Iterable[Any]] = iter,
                        ) -> tuple[list[tuple[str, str, float]], list[tuple[str, str, str]],
                                   dict[tuple[str, str], Any]]:
        """Top-k ranked edges per need, the hard-rule conflicts, and each edge's match
        (retrieved in batches: :func:`api.edges.batched_hits`)."""
        from api.edges import batched_hits

        edges: list[tuple[str, str, float]] = []
        conflicts: list[tuple[str, str, str]] = []
        matches: dict[tuple[str, str], Any] = {}
        known: dict[str, Talent] = {}  # each talent read once per batch
        hits = batched_hits(self, needs, RETRIEVE_K)
        for need in progress(needs):
            result, _ = self.ranked(need, k, known, next(hits))
            for m in result.matches:
                edges.append((need.id, m.talent_id, max(float(m.score), 0.0)))
                matches[(need.id, m.talent_id)] = m
            for d in result.dropped:
                conflicts.append((need.id, d.talent_id, "；".join(r.text for r in d.reasons)))
        return edges, conflicts, matches

    def pair_run(self, *, solver: str = "flow", max_load: int = 3, demand: int = 1,
                 min_score: float = 0.0, k: int = 20, started_by: str = "cli",
                 progress: Callable[[Iterable[Any]], Iterable[Any]] = iter,
                 city: str | None = None) -> dict[str, Any]:
        """A pairing run (资智结对) over every open need; stored with its suggestions.

        Args:
            solver: ``flow``, ``fair`` or ``greedy`` (anything else is an error).
            max_load: needs one expert may be paired with.
            demand: experts per need.
            min_score: edges below it are not used.
            k: candidate edges per need.
            started_by: who started the run (audit).
            progress: wraps the per-need loop (a progress bar on large runs).
            city: only this city's needs and talents (its edges are not stored); None: all.

        Returns:
            ``{"run_id", "solver", "objective", "partial", "messages", "pairs", "alternates", …}``.
        """
        from api.edges import context_digest, enterprises_of, run_rows
        from matching.assignment import PairingRequest, run_pairing
        from matching.solvers import make_solver

        make_solver(solver)  # an unknown name fails before any work
        needs = [n for n in self.open_needs() if city in (None, n.city)]
        t0 = time.perf_counter()
        context, enterprises = context_digest(self), enterprises_of(self, needs)  # before
        edges, conflicts, matches = self.candidate_edges(needs, k, progress)
        edges = city_edges(self.app.store, edges, city)
        request = PairingRequest(needs=[n.id for n in needs], edges=edges, min_score=min_score,
                                 default_load=max_load, default_demand=demand,
                                 conflicts=conflicts)
        result = run_pairing(request, solver=solver)
        run_id = f"R{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
        by_need = {n.id: n for n in needs}
        suggestions = [suggestion(run_id, by_need[nid], tid, score, matches.get((nid, tid)), i)
                       for i, (nid, tid, score) in enumerate(result.pairs)]
        params = {"solver": solver, "max_load": max_load, "demand": demand,
                  "min_score": min_score, "k": k, "needs": len(needs), "edges": len(edges),
                  **({"city": city} if city is not None else {})}
        summary = {"messages": list(result.messages), "alternates": result.alternates,
                   "min_need_score": result.min_need_score, "unmet": plain(result.unmet),
                   "wall_s": round(time.perf_counter() - t0, 3),
                   "edges": {"k": k, "context": context, "needs": len(needs)}}
        stored = self.app.store.add_run(
            {"id": run_id, "kind": "pairing", "started_by": started_by, "params": params,
             "solver": solver, "objective": float(result.objective),
             "duration_s": float(result.duration_s), "partial": bool(result.partial),
             "result": summary}, suggestions,
            run_rows(needs, enterprises, edges, matches) if city is None else ())
        return {"run_id": run_id, "solver": solver, "objective": round(float(result.objective), 4),
                "partial": bool(result.partial), "messages": list(result.messages),
                "pairs": [{"need_id": n, "talent_id": t, "score": round(float(s), 4)}
                          for n, t, s in result.pairs],
                "alternates": result.alternates, "stored": stored, "params": params}

    def suggest_need(self, need_id: str, *, top: int = 3,
                     started_by: str = "service") -> dict[str, Any]:
        """Put a newly posted need's best ``top`` candidates in its work group's queue: a
        small run of kind ``incremental`` whose suggestions are ``proposed``."""
        need = self.need(need_id)
        result, _ = self.ranked(need, top)
        run_id = f"R{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
        suggestions = [suggestion(run_id, need, m.talent_id, m.score, m, i)
                       for i, m in enumerate(result.matches[:top])]
        return self.app.store.add_run(
            {"id": run_id, "kind": "incremental", "started_by": started_by,
             "params": {"need_id": need.id, "top": top}, "solver": None, "objective": None,
             "duration_s": None, "partial": False, "result": {}}, suggestions)

    def pair_show(self, run_id: str) -> dict[str, Any]:
        """A stored run with its suggestions."""
        run = self.app.store.get_run(run_id)
        if run is None:
            raise NotFound("结对运行", run_id)
        pairs = [{"need_id": s.need_id, "talent_id": s.talent_id, "score": s.score,
                  "status": str(s.status), "work_group": str(s.work_group),
                  "explanation": s.explanation}
                 for s in self.app.store.suggestions(run_id=run_id)]
        result = run.get("result") or {}
        return {"run_id": run["id"], "solver": run["solver"], "objective": run["objective"],
                "partial": run["partial"], "started_by": run["started_by"],
                "created_at": str(run["created_at"]), "params": run["params"],
                "duration_s": run["duration_s"], "messages": result.get("messages", []),
                "alternates": result.get("alternates", {}), "pairs": pairs}

    # -- events -----------------------------------------------------------------------------
    def event_shortlist(self, event: Event, *, k: int = 20, m: int = 3, meeting_cap: int = 4,
                        strong: float | None = None, fmt: str | None = None,
                        out: Path | None = None,
                        include_contacts: bool = False,
                        progress: Callable[[Iterable[Any]], Iterable[Any]] = iter,
                        exports: Sequence[tuple[str, Path, bool]] = (),
                        reuse: bool = True, city: str | None = None) -> dict[str, Any]:
        """Shortlist and schedule for a matchmaking event, optionally exported.

        Args:
            event: an :class:`~data.records.Event`.
            k: candidate edges per need.
            m: strong candidates wanted per enterprise.
            meeting_cap: meetings per talent.
            strong: score from which a candidate counts as strong (default: the upper
                quartile of this event's candidate scores, since fused scores are relative).
            fmt: ``xlsx``, ``csv`` or ``html`` to export (with ``out``).
            out: the export file.
            include_contacts: unmask contacts (the caller checks permission).
            progress: wraps the per-need loop.
            exports: more files from the same shortlist: (format, path, include_contacts).
            reuse: take the edges of needs the latest pairing run ranked, when nothing they
                depend on changed since (:func:`api.edges.reusable_edges`); the other needs
                are ranked here.
            city: only this city's needs and talents (a city-scoped starter's); None: all.

        Returns:
            The shortlist summary (entries, per-enterprise lists, messages, schedule size).
        """
        from api.edges import enterprises_of, reusable_edges
        from data.io.event_export import export_shortlist
        from matching.shortlist import build_event_shortlist

        needs = [n for n in self.open_needs() if in_event(n, event) and city in (None, n.city)]
        enterprises = enterprises_of(self, needs)
        run_id, ranked = reusable_edges(self, needs, k, enterprises) if reuse else (None, {})
        reused = len(ranked)
        edges, _, matches = self.candidate_edges([n for n in needs if n.id not in ranked], k,
                                                 progress)
        for n, t, s in edges:
            ranked.setdefault(n, []).append((t, s, getattr(matches.get((n, t)), "explanation", "")))
        triples = [(n.id, t, s, e) for n in needs for t, s, e in ranked.get(n.id, [])]
        triples = city_edges(self.app.store, triples, city)
        talent_ids = list(dict.fromkeys(t for _, t, _, _ in triples))
        talents = many(Talent, self.app.store.get_many("talents", talent_ids))
        if strong is None:
            scores = sorted(s for _, _, s, _ in triples)
            strong = scores[(3 * len(scores)) // 4] if scores else 0.0
        shortlist, schedule = build_event_shortlist(
            event, triples, list(talents.values()), needs, list(enterprises.values()), m=m,
            meeting_cap=meeting_cap, strong=strong)
        files = [*exports, *([(fmt, out, include_contacts)] if fmt and out else [])]
        contacts = None
        for file_fmt, path, with_contacts in files:
            if contacts is None:  # without contacts the files show them masked
                contacts = {e.talent_id: self.app.store.get_contact("talents", e.talent_id)
                            for e in shortlist.entries}
            export_shortlist(shortlist, schedule, talents, enterprises, path, file_fmt,
                             include_contacts=with_contacts,
                             contacts=contacts, needs={n.id: n for n in needs},
                             venue=event.venue,
                             params=shortlist_params(event, k, m, meeting_cap, float(strong)))
        return {"event": event.id, "name": event.name, "strong": round(float(strong), 4),
                "talents": len(shortlist.entries),
                "meetings": len(schedule.meetings), "unplaced": len(schedule.unplaced),
                "per_enterprise": shortlist.per_enterprise, "messages": shortlist.messages,
                "entries": [{"talent_id": e.talent_id, "name": talents[e.talent_id].name,
                             "needs": list(e.needs), "score": round(float(e.score), 4),
                             "reason": e.reason_zh} for e in shortlist.entries],
                "export": str(out) if fmt and out else None,
                "ranking": {"reused_needs": reused, "ranked_needs": len(needs) - reused,
                            "run_id": run_id if reused else None}}
