"""The matcher: retrieval hits → features → rules → score → explanation, in both directions.

**Talents for a need** (:meth:`Matcher.match_need`): the features of every retrieved talent
(:func:`matching.features.features_for_hits` plus the retrieval signals of
:func:`matching.scorer.feature_row`), the rules (:func:`matching.rules.check_pair`: a hard
reason drops the pair, soft reasons multiply its score by their factors and become 「⚠」
flags), the scorer (fused weights, or the learned ranker when one is given), and the
Chinese explanation (:func:`matching.explain.explain`, which states only positive
contributions). Ranked best first; dropped pairs are returned with their reasons. A learned
ranker, when given, re-orders only the head of the fused ranking
(:meth:`Matcher.score_candidates`).

**Needs and 归根 projects for a talent** (:meth:`Matcher.needs_for_talent`): what would
bring this person home. Needs are scored with the fused weights and then raised by the
talent's 归根 signals: the tie (hometown county = the need's / enterprise's county, or the
city) weighs :data:`HOME_TIE_WEIGHT` more, and an intent that fits the need kind adds
:data:`INTENT_WEIGHT` (:data:`matching.opportunities.INTENT_KINDS`: 投资 → 资金 / 项目合作 needs; 全职 / 柔性 →
人才引进 / 技术攻关; 项目合作 → 项目合作 / 技术攻关; 咨询 → 技术攻关). Projects are scored
from the same signals (:data:`matching.opportunities.PROJECT_WEIGHTS`): hometown county / city, industry chain,
intent (投资 / 项目合作), and the talent already named on the project; only projects of the
talent's programme city are proposed.

No SQL, HTTP or file I/O: every record comes in as an argument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from data.records import Enterprise, Need, Project, Talent
from matching.calibration import calibration_matrix
from matching.explain import ExplanationPart, explain
from matching.features import (
    HitLike,
    PairFeatures,
    PoolStats,
    pair_features,
    prepare_need,
)
from matching.opportunities import (
    PROJECT_STATUS_ZH,
    PROJECT_WEIGHTS,
    intent_fit,
    intent_text,
    project_signals,
    project_texts,
)
from matching.pool import FactsCache, pool_features, pool_rules
from matching.ranker import RankerModel
from matching.rules import Reason, RuleResult, check_pair, penalise
from matching.scorer import (
    FusedScorer,
    Scorer,
    feature_row,
    pool_max,
    to_matrix,
)
from matching.strength import STRENGTH_ZH, head_chance, strength
from matching.tables import MatchingTables

HOME_TIE_WEIGHT = 0.15
INTENT_WEIGHT = 0.10
RERANK_DEPTH = 20
RANKER_OFFSET = 1.0


@dataclass
class Match:
    """One ranked (need, talent) pair."""

    talent_id: str
    score: float
    features: dict[str, float]
    contributions: dict[str, float]
    explanation: str
    parts: list[ExplanationPart]
    flags: list[Reason]
    rank: int = 0
    need_id: str = ""
    base_score: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    fused: float = 0.0
    probability: float | None = None

    @property
    def matched_terms(self) -> list[str]:
        """The need's required terms this talent covers."""
        return list(self.details.get("matched_terms", []))


@dataclass
class Dropped:
    """A pair removed by a hard rule, with the reasons to show."""

    talent_id: str
    reasons: list[Reason]


@dataclass
class MatchResult:
    """Ranked matches of one need, the pairs dropped by hard rules, and the scorer used."""

    need_id: str
    matches: list[Match]
    dropped: list[Dropped]
    scorer: str
    strength: str = ""
    """``ok`` / ``weak`` (匹配较弱) / ``none`` (无合适人选) with a calibrated scorer, else ""."""
    chance: float | None = None
    """Chance that one of the best ten is right (:func:`matching.strength.head_chance`, over
    every kept candidate, not only the ``k`` returned); None without a calibrated scorer."""

    @property
    def best_probability(self) -> float | None:
        """The calibrated probability of the best match (None without a calibrated scorer)."""
        probs = [m.probability for m in self.matches if m.probability is not None]
        return max(probs) if probs else None

    @property
    def coverage(self) -> float | None:
        """Chance that one of the best ten is right (calibrated scorer only)."""
        return self.chance

    @property
    def strength_zh(self) -> str:
        """The strength flag in Chinese (empty when the best candidate is strong enough)."""
        return STRENGTH_ZH.get(self.strength, "")


@dataclass
class Candidate:
    """A retrieved talent with its features (before scoring)."""

    talent_id: str
    features: PairFeatures
    values: dict[str, float]
    order: int


@dataclass
class Opportunity:
    """A need or 归根 project proposed to a talent."""

    kind: str  # "need" | "project"
    id: str
    title: str
    score: float
    contributions: dict[str, float]
    explanation: str
    parts: list[ExplanationPart]
    flags: list[Reason] = field(default_factory=list)
    rank: int = 0


@dataclass
class TalentOpportunities:
    """What would bring a talent home: needs and projects, each ranked on its own scale."""

    talent_id: str
    needs: list[Opportunity]
    projects: list[Opportunity]
    dropped: list[tuple[str, list[Reason]]] = field(default_factory=list)


class Matcher:
    """Scores and explains retrieved pairs (see the module doc).

    Args:
        tables: the matching tables.
        weights: fused weights (default :data:`matching.scorer.DEFAULT_WEIGHTS`).
        ranker: a trained ranker; when given it re-ranks the fused top ``rerank_depth``.
        now: reference time for freshness (default: now).
        rerank_depth: how many of the fused ranking's head the ranker re-orders.
    """

    def __init__(self, tables: MatchingTables, weights: Mapping[str, float] | None = None,
                 ranker: RankerModel | Scorer | None = None, now: datetime | None = None,
                 rerank_depth: int = RERANK_DEPTH) -> None:
        self.tables = tables
        self.fused = FusedScorer(weights)
        self.ranker = ranker
        self.scorer: Scorer = ranker if ranker is not None else self.fused
        self.rerank_depth = rerank_depth
        self.now = now
        self.facts = FactsCache(tables)

    # -- talents for a need -----------------------------------------------------------------
    def candidates(self, need: Need, hits: Sequence[HitLike], talents: Mapping[str, Talent],
                   enterprise: Enterprise | None = None) -> list[Candidate]:
        """Features of the retrieved talents (unknown talent ids are skipped).

        Args:
            need: the need.
            hits: its retrieval hits, best first.
            talents: talents by id.
            enterprise: the need's enterprise.

        Returns:
            One candidate per known talent, in hit order.
        """
        hits = list(hits)
        first: dict[str, int] = {}
        last: dict[str, int] = {}  # as features_for_hits: a repeated id's last hit
        for i, h in enumerate(hits):
            tid = str(getattr(h, "id", ""))
            if tid in talents:
                first.setdefault(tid, i)
                last[tid] = i
        ids = list(first)
        feats = pool_features(prepare_need(need, self.tables, enterprise),
                              [self.facts.get(talents[t]) for t in ids],
                              [hits[last[t]] for t in ids], PoolStats.from_hits(hits), self.now)
        best = pool_max(hits)
        return [Candidate(t, pf, feature_row(pf, hits[first[t]], best), first[t])
                for t, pf in zip(ids, feats, strict=True)]

    def rank(self, need: Need, candidates: Sequence[Candidate], talents: Mapping[str, Talent],
             enterprise: Enterprise | None = None, k: int | None = None,
             apply_rules: bool = True) -> MatchResult:
        """Score, rule-check, explain and rank candidates.

        Args:
            need: the need.
            candidates: from :meth:`candidates`.
            talents: talents by id.
            enterprise: the need's enterprise.
            k: keep the best ``k`` (default: all).
            apply_rules: check conflicts and eligibility (off only for experiments).

        Returns:
            The ranked matches and the dropped pairs.
        """
        scores, fused, contribs = self._scores(candidates)
        calibrated = self.calibrated
        kept: list[tuple[float, int, list[Any]]] = []
        dropped = []
        checked: list[RuleResult | None] = (
            list(self.rules(need, [talents[c.talent_id] for c in candidates], enterprise))
            if apply_rules else [None] * len(candidates))
        for i, (cand, score, rules) in enumerate(zip(candidates, scores, checked, strict=True)):
            if rules is not None and not rules.allowed:
                dropped.append(Dropped(cand.talent_id, list(rules.hard)))
                continue
            flags = list(rules.soft) if rules is not None else []
            final = penalise(float(score), rules) if rules is not None else float(score)
            kept.append((final, i, flags))
        # only the k shown are explained (the explanation and details cost more than scoring)
        kept.sort(key=lambda x: (-x[0], x[1]))
        ranked = []
        for rank, (final, i, flags) in enumerate(kept[: k if k is not None else None], start=1):
            cand = candidates[i]
            named = dict(zip(self.fused.feature_names, map(float, contribs[i]), strict=True))
            exp = explain(cand.features, named, flags)
            ranked.append(Match(cand.talent_id, final, dict(cand.values), named, exp.text_zh,
                                exp.parts, flags, rank, need.id, float(scores[i]),
                                cand.features.details_dict(), float(fused[i]),
                                final if calibrated else None))
        result = MatchResult(need.id, ranked, dropped, self.scorer.name)
        if calibrated:
            assert isinstance(self.ranker, RankerModel)
            finals = [f for f, _, _ in kept]
            result.chance = head_chance(finals, self.ranker.head)
            result.strength = strength(finals, self.ranker.head)
        return result

    def rules(self, need: Need, talents: Sequence[Talent], enterprise: Enterprise | None = None
              ) -> list[RuleResult]:
        """:func:`matching.rules.check_pair` of every talent (:func:`matching.pool.pool_rules`)."""
        return pool_rules(need, talents, self.tables, enterprise)

    @property
    def calibrated(self) -> bool:
        """Whether final scores are calibrated probabilities (a calibrated ranker version)."""
        return isinstance(self.ranker, RankerModel) and self.ranker.calibrated

    def _probabilities(self, values: np.ndarray, fused: np.ndarray) -> np.ndarray:
        assert isinstance(self.ranker, RankerModel)
        x = calibration_matrix(values, fused, self.ranker.feature_names)
        return self.ranker.probability(x)[0]

    def _scores(self, candidates: Sequence[Candidate]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(final scores, fused scores, fused contributions)`` of candidates.

        With a calibrated ranker the final score is P(relevant) for *every* candidate
        (:mod:`matching.calibration`) and the contributions stay the fused ones, which add
        up to the fused score the explanation bars show. Otherwise see
        :meth:`score_candidates`.
        """
        names = self.fused.feature_names
        if not candidates:
            return np.zeros(0), np.zeros(0), np.zeros((0, len(names)))
        values = to_matrix([c.values for c in candidates], names)  # names == SCORER_FEATURES
        fused, contribs = self.fused.score(values)
        if self.ranker is not None and self.calibrated:
            return self._probabilities(values, fused), fused, contribs
        final, contribs = self.score_candidates(candidates)
        return final, fused, contribs

    def score_candidates(self, candidates: Sequence[Candidate]) -> tuple[np.ndarray, np.ndarray]:
        """Scores and contributions of candidates (no rules).

        Fused weights score every candidate. With a ranker, the fused ranking's first
        ``rerank_depth`` candidates are re-scored by it: their score becomes
        ``RANKER_OFFSET + sigmoid(logit)`` (so they stay above the fused tail, whose scores
        are at most 1) and their contributions are the ranker's ``coef · standardised value``.
        Review decisions only ever see the head of the lists, so the ranker is never asked to
        extrapolate to deep candidates it has not learned about.

        Args:
            candidates: from :meth:`candidates`.

        Returns:
            ``(scores (n,), contributions (n, f))`` in the scorer's feature order.
        """
        names = self.fused.feature_names
        if not candidates:
            return np.zeros(0), np.zeros((0, len(names)))
        values = to_matrix([c.values for c in candidates], names)  # names == SCORER_FEATURES
        scores, contribs = self.fused.score(values)
        if self.ranker is None:
            return scores, contribs
        if self.calibrated:
            return self._probabilities(values, scores), contribs
        head = np.lexsort((np.arange(len(scores)), -scores))[: self.rerank_depth]
        logits, learned = self.ranker.score(
            to_matrix([candidates[i].values for i in head], self.ranker.feature_names))
        scores, contribs = scores.copy(), contribs.copy()
        scores[head] = RANKER_OFFSET + 1.0 / (1.0 + np.exp(-logits))
        cols = np.array([names.index(n) for n in self.ranker.feature_names], dtype=np.int64)
        contribs[head] = 0.0
        contribs[np.ix_(head, cols)] = learned
        return scores, contribs

    def match_need(self, need: Need, hits: Sequence[HitLike], talents: Mapping[str, Talent],
                   enterprise: Enterprise | None = None, k: int | None = None) -> MatchResult:
        """Talents for a need: :meth:`candidates` then :meth:`rank`.

        Args:
            need: the need (or challenge).
            hits: retrieval hits over talents, best first.
            talents: talents by id.
            enterprise: the need's enterprise.
            k: how many matches to keep (default: all).

        Returns:
            The ranked matches and the dropped pairs.
        """
        return self.rank(need, self.candidates(need, hits, talents, enterprise), talents,
                         enterprise, k)

    # -- needs and projects for a talent ----------------------------------------------------
    def needs_for_talent(self, talent: Talent, hits: Sequence[HitLike],
                         needs: Mapping[str, Need],
                         enterprises: Mapping[str, Enterprise] | None = None,
                         projects: Sequence[Project] = (), k: int = 20) -> TalentOpportunities:
        """Needs and 归根 projects for a talent (see the module doc).

        Args:
            talent: the talent.
            hits: retrieval hits over needs, best first.
            needs: needs by id.
            enterprises: enterprises by id.
            projects: the 归根 project library.
            k: how many of each to keep.

        Returns:
            Ranked needs and projects, with dropped needs and their reasons.
        """
        enterprises = enterprises or {}
        pool, best = PoolStats.from_hits(hits), pool_max(hits)
        found, dropped = [], []
        for h in hits:
            need = needs.get(str(getattr(h, "id", "")))
            if need is None:
                continue
            ent = enterprises.get(need.enterprise_id or "")
            rules = check_pair(need, talent, self.tables, ent)
            if not rules.allowed:
                dropped.append((need.id, list(rules.hard)))
                continue
            pf = pair_features(prepare_need(need, self.tables, ent), talent, h, pool, self.now)
            found.append(self._need_opportunity(need, talent, pf, feature_row(pf, h, best),
                                                list(rules.soft)))
        city = self.tables.city(talent.city) or talent.city
        projs = [self._project_opportunity(p, talent) for p in projects
                 if (self.tables.city(p.city) or p.city) == city]
        return TalentOpportunities(talent.id, _ranked(found, k),
                                   _ranked([p for p in projs if p.score > 0], k), dropped)

    def _need_opportunity(self, need: Need, talent: Talent, pf: PairFeatures,
                          values: dict[str, float], flags: list[Reason]) -> Opportunity:
        scores, contribs = self.fused.score(to_matrix([values], self.fused.feature_names))
        named = dict(zip(self.fused.feature_names, map(float, contribs[0]), strict=True))
        named["tie"] = named.get("tie", 0.0) + HOME_TIE_WEIGHT * pf.tie
        fit = intent_fit(talent, str(need.kind), self.tables)
        named["intent_fit"] = INTENT_WEIGHT * fit
        score = float(scores[0]) + HOME_TIE_WEIGHT * pf.tie + named["intent_fit"]
        exp = explain(pf, named, ())
        parts = list(exp.parts)
        if named["intent_fit"] > 0:
            parts.insert(0, ExplanationPart("intent_fit", intent_text(talent, str(need.kind),
                                                                      self.tables),
                                            named["intent_fit"]))
        parts += [ExplanationPart(f"rule:{r.code}", f"⚠ {r.text}", 0.0, "flag") for r in flags]
        return Opportunity("need", need.id, need.title, penalise_by(score, flags), named,
                           "；".join(p.text for p in parts), parts, flags)

    def _project_opportunity(self, project: Project, talent: Talent) -> Opportunity:
        values = project_signals(project, talent, self.tables)
        named = {n: PROJECT_WEIGHTS[n] * v for n, v in values.items()}
        parts = [ExplanationPart(n, t, named[n]) for n, t in
                 project_texts(project, talent, values, self.tables) if named[n] > 0]
        status = PROJECT_STATUS_ZH.get(str(project.status.value), str(project.status.value))
        return Opportunity("project", project.id, f"{project.name}（{status}）",
                           float(sum(named.values())), named,
                           "；".join(p.text for p in parts), parts)


def penalise_by(score: float, flags: Sequence[Reason]) -> float:
    """A score lowered by soft reasons (as :func:`matching.rules.penalise`)."""
    return penalise(score, RuleResult(soft=list(flags)))


def _ranked(items: list[Opportunity], k: int) -> list[Opportunity]:
    order = sorted(range(len(items)), key=lambda i: (-items[i].score, i))[:k]
    out = [items[i] for i in order]
    for r, item in enumerate(out, start=1):
        item.rank = r
    return out
