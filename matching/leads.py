"""揭榜挂帅: eligible leads and a team for a challenge.

**Leads.** The challenge's candidates are matched by :class:`matching.matcher.Matcher`
(hard rules, including the challenge's eligibility, remove a pair); each remaining candidate
is checked again with :func:`matching.rules.check_pair` so that no ineligible person can be
proposed as 揭榜人 whatever the caller passes in. The lead score combines

- expertise fit: the match score over the best match score of the challenge (0..1), and
- leadership: level (A 1, B 2/3, C 1/3, unknown 0), title rank (正高级 1 … 无 0) and led
  projects (``min(n, 5) / 5``), averaged;

as ``LEAD_FIT_WEIGHT · fit + (1 − LEAD_FIT_WEIGHT) · leadership``.

**Team.** The best lead is 揭榜人; members are added greedily by the number of the
challenge's required terms they add to the team's coverage (ties: higher match score), up
to the challenge's maximum team size; below the minimum size the best remaining matches
fill in. A 1-swap pass then improves coverage, and if the top-N leads taken alone
(N = team size) cover more terms, the team becomes those leads. No two members may conflict
(:func:`members_conflict`): one names the other (id, name or organisation) in their
回避 list, or one declares the other as a relative or partner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from data.records import Challenge, Enterprise, Talent
from matching.features import HitLike
from matching.matcher import Match, Matcher
from matching.rules import check_pair, mentions, same_org
from matching.tables import MatchingTables, norm

LEAD_FIT_WEIGHT = 0.6
LED_PROJECTS_CAP = 5
MAX_ADDS_SHOWN = 5


@dataclass
class Lead:
    """An eligible lead: the match with its leadership signals and the combined score."""

    match: Match
    leadership: float
    fit: float
    lead_score: float
    reason_zh: str


@dataclass
class TeamMember:
    """A team member: role 揭榜人 or 成员, the required terms they add, and why."""

    talent_id: str
    role: str
    adds: list[str]
    reason_zh: str


@dataclass
class LeadProposal:
    """Leads ranked by lead score, the proposed team, and the terms it covers or misses."""

    challenge_id: str
    leads: list[Lead]
    team: list[TeamMember]
    covered_terms: list[str]
    missing_terms: list[str]
    required_terms: list[str] = field(default_factory=list)


def leadership(talent: Talent, tables: MatchingTables) -> float:
    """The leadership signal of a talent in [0, 1] (see the module doc).

    Args:
        talent: the talent.
        tables: the matching tables (level and title ranks).

    Returns:
        The mean of the level, title and led-projects parts.
    """
    top_level = max(tables.level_names, default=3) or 3
    level = (tables.level_rank(talent.level) or 0) / top_level
    top_title = max(tables.title_names, default=4) or 4
    title = (tables.title_rank(talent.title) or 0) / top_title
    led = min(talent.led_projects, LED_PROJECTS_CAP) / LED_PROJECTS_CAP
    return (level + title + led) / 3


def members_conflict(a: Talent, b: Talent, places: Sequence[str] = ()) -> bool:
    """Whether two talents must not be in one team.

    Args:
        a: one talent.
        b: the other.
        places: place prefixes names may omit.

    Returns:
        True when either names the other (id, name or organisation) in their 回避 list or
        declares the other as a relative or partner.
    """
    def names(x: Talent, y: Talent) -> bool:
        ids = {norm(y.id), norm(y.name)}
        if any(norm(e) in ids for e in [*x.avoid, *x.relatives]):
            return True
        orgs = [o for o in (y.organisation, y.parent_organisation) if o]
        return any(same_org(e, o, places) for e in x.avoid for o in orgs) or any(
            mentions(r, y.name, places) for r in x.relatives if len(norm(y.name)) >= 2)

    return names(a, b) or names(b, a)


def _lead_reason(t: Talent, m: Match, tables: MatchingTables) -> str:
    bits = [x for x in (tables.title_name(tables.title_rank(t.title)),
                        f"{tables.level_name(t.level)}类人才" if t.level else None) if x]
    if t.led_projects:
        bits.append(f"主持项目{t.led_projects}项")
    terms = m.matched_terms
    if terms:
        bits.append("覆盖：" + "、".join(terms[:MAX_ADDS_SHOWN]))
    return "；".join(bits) or "专业匹配"


def rank_leads(challenge: Challenge, matches: Sequence[Match], talents: Mapping[str, Talent],
               tables: MatchingTables, enterprise: Enterprise | None = None) -> list[Lead]:
    """Eligible leads, best first (hard rules are re-checked here).

    Args:
        challenge: the challenge.
        matches: its matches (from :meth:`Matcher.match_need`).
        talents: talents by id.
        tables: the matching tables.
        enterprise: the challenge's enterprise.

    Returns:
        Leads sorted by lead score.
    """
    ok = [m for m in matches if m.talent_id in talents
          and check_pair(challenge, talents[m.talent_id], tables, enterprise).allowed]
    best = max((m.score for m in ok), default=0.0)
    leads = []
    for m in ok:
        t = talents[m.talent_id]
        fit = m.score / best if best > 0 else 0.0
        lead = leadership(t, tables)
        leads.append(Lead(m, lead, fit, LEAD_FIT_WEIGHT * fit + (1 - LEAD_FIT_WEIGHT) * lead,
                          _lead_reason(t, m, tables)))
    return sorted(leads, key=lambda x: (-x.lead_score, -x.match.score, x.match.talent_id))


def _coverage(team: Sequence[Match]) -> set[str]:
    return {t for m in team for t in m.matched_terms}


def _fits(m: Match, team: Sequence[Match], talents: Mapping[str, Talent],
          places: Sequence[str]) -> bool:
    return all(m.talent_id != x.talent_id and not members_conflict(
        talents[m.talent_id], talents[x.talent_id], places) for x in team)


def form_team(lead: Match, pool: Sequence[Match], talents: Mapping[str, Talent],
              size: tuple[int, int], places: Sequence[str] = ()) -> list[Match]:
    """The greedy team around a lead (see the module doc), before the comparison with leads.

    Args:
        lead: the 揭榜人's match.
        pool: candidate members (matches), best first.
        talents: talents by id.
        size: (minimum, maximum) team size, the lead included.
        places: place prefixes for conflict checks.

    Returns:
        The team, lead first.
    """
    team = [lead]
    while len(team) < size[1]:
        covered = _coverage(team)
        options = [m for m in pool if _fits(m, team, talents, places)]
        if not options:
            break
        best = max(options, key=lambda m: (len(set(m.matched_terms) - covered), m.score))
        if not set(best.matched_terms) - covered and len(team) >= size[0]:
            break
        team.append(best)
    return _improve(team, pool, talents, places)


def _improve(team: list[Match], pool: Sequence[Match], talents: Mapping[str, Talent],
             places: Sequence[str]) -> list[Match]:
    """1-swap local search on members (never the lead) while coverage grows."""
    improved = True
    while improved:
        improved = False
        for i in range(1, len(team)):
            rest = team[:i] + team[i + 1:]
            for m in pool:
                if _fits(m, rest, talents, places) and \
                        len(_coverage([*rest, m])) > len(_coverage(team)):
                    team = [*rest[:i], m, *rest[i:]]
                    improved = True
                    break
    return team


def _conflict_free_top(leads: Sequence[Lead], n: int, talents: Mapping[str, Talent],
                       places: Sequence[str]) -> list[Match]:
    chosen: list[Match] = []
    for lead in leads:
        if len(chosen) == n:
            break
        if _fits(lead.match, chosen, talents, places):
            chosen.append(lead.match)
    return chosen


def propose(challenge: Challenge, matches: Sequence[Match], talents: Mapping[str, Talent],
            tables: MatchingTables, enterprise: Enterprise | None = None,
            n_leads: int = 10) -> LeadProposal:
    """Leads and a team for a challenge from its matches.

    Args:
        challenge: the challenge.
        matches: its matches (from :meth:`Matcher.match_need`), best first.
        talents: talents by id.
        tables: the matching tables.
        enterprise: the challenge's enterprise.
        n_leads: how many leads to return.

    Returns:
        The proposal (empty team when no eligible lead exists).
    """
    leads = rank_leads(challenge, matches, talents, tables, enterprise)
    required = list(matches[0].details.get("required_terms", [])) if matches else []
    if not leads:
        return LeadProposal(challenge.id, [], [], [], required, required)
    places = tables.place_names()
    pool = [lead.match for lead in leads]
    team = form_team(leads[0].match, pool, talents, challenge.team_size, places)
    top = _conflict_free_top(leads, len(team), talents, places)
    if len(_coverage(top)) > len(_coverage(team)):
        team = top
    members = _members(team)
    covered = [t for t in required if t in _coverage(team)]
    return LeadProposal(challenge.id, leads[:n_leads], members, covered,
                        [t for t in required if t not in covered], required)


def _members(team: Sequence[Match]) -> list[TeamMember]:
    out, covered = [], set()
    for i, m in enumerate(team):
        adds = [t for t in m.matched_terms if t not in covered]
        covered |= set(adds)
        role = "揭榜人" if i == 0 else "成员"
        shown = "、".join(adds[:MAX_ADDS_SHOWN]) + (f"等{len(adds)}项" if len(adds) > MAX_ADDS_SHOWN
                                                   else "")
        if i == 0:
            reason = f"牵头：{shown}" if adds else "牵头：专业匹配度与领军能力综合最高"
        else:
            reason = f"补充：{shown}" if adds else "补充团队力量（专业相近）"
        out.append(TeamMember(m.talent_id, role, adds, reason))
    return out


def leads_for_challenge(matcher: Matcher, challenge: Challenge, hits: Sequence[HitLike],
                        talents: Mapping[str, Talent], enterprise: Enterprise | None = None,
                        n_leads: int = 10) -> LeadProposal:
    """Match a challenge's hits, then :func:`propose` leads and a team.

    Args:
        matcher: the matcher.
        challenge: the challenge.
        hits: its retrieval hits over talents.
        talents: talents by id.
        enterprise: its enterprise.
        n_leads: how many leads to return.

    Returns:
        The proposal.
    """
    result = matcher.match_need(challenge, hits, talents, enterprise)
    return propose(challenge, result.matches, talents, matcher.tables, enterprise, n_leads)
