"""Why a pairing run left a need short, and who else could serve it (alternates).

Both read an :class:`~matching.assignment.Encoding` and a solver's result; the decoder
(:func:`matching.assignment.decode`) puts their output on the :class:`RunResult`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from matching.solvers.base import CANDIDATE, FORBIDDEN, SolveResult

if TYPE_CHECKING:  # pragma: no cover - typing only (assignment imports this module)
    from matching.assignment import Encoding

MAX_EXPLAINED = 20
"""At most this many short needs are explained one by one; the rest are counted."""


def alternates(enc: Encoding, assigned: np.ndarray) -> dict[str, list[str]]:
    """Ranked alternates per need: eligible talents (no conflict, at least the minimum score)
    not already paired with that need. Loads are not reserved for alternates.

    Args:
        enc: the encoding.
        assigned: chosen edge indices.

    Returns:
        Need id → up to ``enc.n_alternates`` talent ids, best first (every need present).
    """
    p = enc.problem
    out: dict[str, list[str]] = {nid: [] for nid in enc.need_ids}
    if enc.n_alternates <= 0:
        return out
    mask = p.flag == CANDIDATE
    mask[assigned] = False
    idx = np.flatnonzero(mask)
    idx = idx[np.lexsort((-p.score[idx], p.need_idx[idx]))]
    rows = p.need_idx[idx]
    starts = np.searchsorted(rows, rows, side="left")
    idx = idx[np.arange(len(idx)) - starts < enc.n_alternates]
    for i, j in zip(p.need_idx[idx].tolist(), p.talent_idx[idx].tolist(), strict=True):
        out[enc.need_ids[i]].append(enc.talent_ids[j])
    return out


def _join(parts: list[str]) -> str:
    return "，".join(x for x in parts if x)


def _too_few(enc: Encoding, i: int, eligible: int) -> str:
    """The 'too few eligible candidates' clause for need ``i``."""
    details = [f"候选人 {enc.n_candidates[i]} 位"]
    if enc.n_forbidden[i]:
        why = "、".join(enc.conflict_reasons.get(i, [])[:3])
        details.append(f"其中 {enc.n_forbidden[i]} 位因回避被排除" + (f"（{why}）" if why else ""))
    if enc.n_below_min[i]:
        details.append(f"{enc.n_below_min[i]} 位低于最低分 {enc.min_score:g}")
    fixes = ["扩大候选范围（增加每个需求的候选人数）", "减少需求人数"]
    if enc.n_below_min[i]:
        fixes.insert(0, "降低最低分（min_score）")
    if enc.n_forbidden[i]:
        fixes.append("核查回避名单")
    return (f"符合条件的候选人只有 {eligible} 位（{_join(details)}）；可放宽："
            + "、".join(fixes))


def _loads_full(enc: Encoding, i: int, chosen: np.ndarray, used: np.ndarray) -> str:
    """The 'candidates' loads used up by other needs' clause for need ``i``, or ''."""
    p = enc.problem
    mine = np.flatnonzero((p.need_idx == i) & (p.flag == CANDIDATE) & ~chosen)
    full = mine[used[p.talent_idx[mine]] >= p.load[p.talent_idx[mine]]]
    if not len(full):
        return ""
    full = full[np.argsort(-p.score[full], kind="stable")]
    names = "、".join(str(enc.talent_ids[p.talent_idx[e]]) for e in full[:3])
    return (f"{len(full)} 位符合条件的候选人（如 {names}）的对接上限已被其他需求占满；"
            "可提高这些专家的对接上限（load）或减少其他需求的人数")


def explain_shortfall(enc: Encoding, result: SolveResult) -> list[str]:
    """Say, per short need, why it did not get its demand and what to relax.

    Args:
        enc: the encoding.
        result: the solver's result.

    Returns:
        Chinese messages: a summary first, then one line per short need (at most
        ``MAX_EXPLAINED``, then a count of the rest). Empty when nothing is short.
    """
    short = np.flatnonzero(result.unmet > 0)
    if not len(short):
        return []
    p = enc.problem
    chosen = np.zeros(p.n_edges, dtype=bool)
    chosen[result.assigned] = True
    used = p.count_per_talent(chosen)
    usable = p.count_per_need(p.flag != FORBIDDEN)
    lines = [f"部分结对：{len(short)} 个需求未达到需求人数，共缺 {int(result.unmet.sum())} 人。"]
    for i in short[:MAX_EXPLAINED].tolist():
        got = int(p.demand[i] - result.unmet[i])
        causes = [_too_few(enc, i, int(usable[i])) if usable[i] < p.demand[i] else "",
                  _loads_full(enc, i, chosen, used)]
        if not any(causes):
            causes = ["求解器未能安排更多候选人，可改用 flow 求解器"]
        lines.append(f"需求「{enc.need_ids[i]}」需要 {p.demand[i]} 人，只安排了 {got} 人：{_join(causes)}。")
    if len(short) > MAX_EXPLAINED:
        lines.append(f"另有 {len(short) - MAX_EXPLAINED} 个需求未满足，未逐一列出。")
    return lines
