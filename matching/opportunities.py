"""What brings a talent home besides needs: intent fit and the signals of 归根 projects.

Used by :meth:`matching.matcher.Matcher.needs_for_talent`: an intent that fits a need kind
(:data:`INTENT_KINDS`) raises the need, and a project is scored from the signals of
:data:`PROJECT_WEIGHTS` (hometown county / city, industry chain, intent, already linked).
"""

from __future__ import annotations

from collections.abc import Mapping

from data.records import Project, Talent
from matching.tables import MatchingTables, norm

INTENT_KINDS: dict[str, tuple[str, ...]] = {
    "投资": ("funding", "project"), "项目合作": ("project", "tech"),
    "全职": ("talent", "tech"), "柔性": ("talent", "tech"), "咨询": ("tech",),
}
PROJECT_WEIGHTS = {"tie": 0.35, "same_chain": 0.25, "intent_fit": 0.25, "linked": 0.15}
PROJECT_INTENTS = ("投资", "项目合作")
PROJECT_STATUS_ZH = {"signed": "已签约", "negotiating": "在谈", "intended": "意向"}


def _intents(talent: Talent, tables: MatchingTables) -> list[str]:
    """The talent's intents, canonical (全职 / 柔性 / …)."""
    return [tables.intent(i) for i in talent.intent]


def intent_fit(talent: Talent, kind: str, tables: MatchingTables) -> float:
    """1 when one of the talent's intents wants this need kind (:data:`INTENT_KINDS`), else 0.

    Args:
        talent: the talent.
        kind: the need kind code.
        tables: the matching tables (intent aliases).

    Returns:
        1.0 or 0.0.
    """
    return 1.0 if any(kind in INTENT_KINDS.get(i, ()) for i in _intents(talent, tables)) else 0.0


def intent_text(talent: Talent, kind: str, tables: MatchingTables) -> str:
    """「有投资意向，契合资金需求」 for the first fitting intent."""
    label = tables.kind_labels.get(kind, kind)
    intent = next(i for i in _intents(talent, tables) if kind in INTENT_KINDS.get(i, ()))
    return f"有{intent}意向，契合{label}需求"


def project_signals(project: Project, talent: Talent, tables: MatchingTables) -> dict[str, float]:
    """The project signals of :data:`PROJECT_WEIGHTS`, each in [0, 1].

    Args:
        project: the 归根 project.
        talent: the talent.
        tables: the matching tables.

    Returns:
        ``{"tie", "same_chain", "intent_fit", "linked"}``.
    """
    county = norm(talent.hometown_county)
    counties = {norm(c) for c in tables.counties_of(project.city)}
    tie = 1.0 if county and county == norm(project.county) else 0.7 if county in counties else 0.0
    chain = tables.chain_of(project.chain) or project.chain
    mine = {tables.chain_of(c) or c for c in talent.chains}
    intents = _intents(talent, tables)
    return {"tie": tie if county else 0.0,
            "same_chain": 1.0 if chain and chain in mine else 0.0,
            "intent_fit": 1.0 if any(i in PROJECT_INTENTS for i in intents) else 0.0,
            "linked": 1.0 if talent.id in project.talent_ids else 0.0}


def project_texts(project: Project, talent: Talent, values: Mapping[str, float],
                  tables: MatchingTables) -> list[tuple[str, str]]:
    """(signal, Chinese text) for each signal of a project that is present.

    Args:
        project: the project.
        talent: the talent.
        values: from :func:`project_signals`.
        tables: the matching tables.

    Returns:
        Texts in display order.
    """
    out = []
    if values["tie"] >= 1.0:
        out.append(("tie", f"项目位于{project.county}（{talent.hometown_county}籍）"))
    elif values["tie"] > 0:
        out.append(("tie", f"项目在{tables.city(project.city) or project.city}，"
                           f"{talent.hometown_county}籍"))
    if values["same_chain"] > 0:
        out.append(("same_chain", f"同属{tables.chain_of(project.chain) or project.chain}产业链"))
    if values["intent_fit"] > 0:
        intent = next(i for i in _intents(talent, tables) if i in PROJECT_INTENTS)
        out.append(("intent_fit", f"有{intent}意向"))
    if values["linked"] > 0:
        out.append(("linked", "已列为该项目关联人才"))
    return out
