"""Meeting schedule of a matchmaking event (对接会): talent × enterprise × time slot.

Two steps:

1. **Admission by priority.** Meetings are taken in order of priority (highest first, then
   input order). A meeting is admitted while its talent has fewer than
   ``min(meeting_cap, len(slots))`` meetings and its enterprise fewer than ``len(slots)``;
   otherwise it is reported as unplaced with the reason. Duplicate (talent, enterprise)
   meetings are reported too.
2. **Slot assignment as bipartite edge colouring.** Talents and enterprises are the two sides
   of a bipartite multigraph, meetings its edges, time slots its colours. By König's
   edge-colouring theorem a bipartite graph whose maximum degree is at most ``len(slots)`` can
   be coloured with ``len(slots)`` colours, and step 1 guarantees that bound; so every admitted
   meeting gets a slot. Each edge takes the earliest slot free for both ends; when there is
   none, an alternating (Kempe) path is flipped to free one (the classic proof, O(E·V) here).

No talent and no enterprise is ever in two meetings in the same slot. Pure: ids in, plain
data out; no files, SQL or HTTP.

Example::

    schedule = schedule_meetings([Meeting("t1", "e1", 0.9), Meeting("t1", "e2", 0.8)],
                                 ["09:00", "09:30"], meeting_cap=4)
    schedule.by_talent()["t1"]  # [("09:00", "e1"), ("09:30", "e2")]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

DEFAULT_MEETING_CAP = 4

_Node = tuple[str, str]
"""A graph node: ``("t", talent_id)`` or ``("e", enterprise_id)`` (ids may coincide)."""


@dataclass(frozen=True)
class Meeting:
    """A meeting to place: one talent with one enterprise.

    Attributes:
        talent_id: the talent.
        enterprise_id: the enterprise.
        priority: higher is admitted first (e.g. the best edge score of the pair).
        need_ids: the enterprise's needs the meeting is about.
    """

    talent_id: str
    enterprise_id: str
    priority: float = 0.0
    need_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduledMeeting:
    """A placed meeting: the meeting and its time slot."""

    meeting: Meeting
    slot: str

    @property
    def talent_id(self) -> str:
        """The talent."""
        return self.meeting.talent_id

    @property
    def enterprise_id(self) -> str:
        """The enterprise."""
        return self.meeting.enterprise_id


@dataclass(frozen=True)
class UnplacedMeeting:
    """A meeting that got no slot, with the reason in Chinese."""

    meeting: Meeting
    reason: str


@dataclass
class Schedule:
    """The outcome of scheduling.

    Attributes:
        slots: the event's time slots, in order.
        meetings: placed meetings, by slot order then enterprise id.
        unplaced: meetings that could not be placed, with reasons.
        messages: summary notes in Chinese.
    """

    slots: list[str]
    meetings: list[ScheduledMeeting] = field(default_factory=list)
    unplaced: list[UnplacedMeeting] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def by_talent(self) -> dict[str, list[tuple[str, str]]]:
        """Talent id → ``[(slot, enterprise_id)]`` in slot order."""
        out: dict[str, list[tuple[str, str]]] = {}
        for m in self.meetings:
            out.setdefault(m.talent_id, []).append((m.slot, m.enterprise_id))
        return out

    def by_enterprise(self) -> dict[str, list[tuple[str, str]]]:
        """Enterprise id → ``[(slot, talent_id)]`` in slot order."""
        out: dict[str, list[tuple[str, str]]] = {}
        for m in self.meetings:
            out.setdefault(m.enterprise_id, []).append((m.slot, m.talent_id))
        return out


def schedule_meetings(meetings: Iterable[Meeting], slots: Sequence[str], *,
                      meeting_cap: int = DEFAULT_MEETING_CAP,
                      caps: Mapping[str, int] | None = None) -> Schedule:
    """Place meetings into time slots without double-booking anyone.

    Args:
        meetings: the meetings wanted (any order; ``priority`` decides who is admitted).
        slots: the event's time slots, in order (labels such as ``"09:00-09:20"``).
        meeting_cap: the most meetings one talent may have.
        caps: per-talent overrides of ``meeting_cap``.

    Returns:
        The schedule: placed meetings and unplaced ones with reasons.

    Raises:
        ValueError: ``meeting_cap`` is negative or a slot label is repeated.
    """
    if meeting_cap < 0:
        raise ValueError(f"meeting_cap 必须 ≥ 0，收到 {meeting_cap}")
    slot_list = list(slots)
    if len(set(slot_list)) != len(slot_list):
        raise ValueError("时段（time_slots）有重复的标签")
    admitted, unplaced = _admit(list(meetings), len(slot_list), meeting_cap, caps or {})
    colours = _colour(admitted, len(slot_list))
    placed = [ScheduledMeeting(m, slot_list[c]) for m, c in zip(admitted, colours, strict=True)]
    rank = {slot: i for i, slot in enumerate(slot_list)}
    placed.sort(key=lambda s: (rank[s.slot], s.enterprise_id, s.talent_id))
    schedule = Schedule(slot_list, placed, unplaced)
    if unplaced:
        schedule.messages.append(f"{len(unplaced)} 场对接未能排入时段（原因见 unplaced）")
    return schedule


def _admit(meetings: list[Meeting], n_slots: int, meeting_cap: int, caps: Mapping[str, int]
           ) -> tuple[list[Meeting], list[UnplacedMeeting]]:
    """Admit meetings by priority under the degree bounds that make colouring possible."""
    order = sorted(range(len(meetings)), key=lambda i: (-meetings[i].priority, i))
    talent_deg: dict[str, int] = {}
    ent_deg: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    admitted: list[Meeting] = []
    unplaced: list[UnplacedMeeting] = []
    for i in order:
        m = meetings[i]
        cap = caps.get(m.talent_id, meeting_cap)
        reason = _refusal(m, n_slots, cap, talent_deg, ent_deg, seen)
        if reason:
            unplaced.append(UnplacedMeeting(m, reason))
            continue
        seen.add((m.talent_id, m.enterprise_id))
        talent_deg[m.talent_id] = talent_deg.get(m.talent_id, 0) + 1
        ent_deg[m.enterprise_id] = ent_deg.get(m.enterprise_id, 0) + 1
        admitted.append(m)
    return admitted, unplaced


def _refusal(m: Meeting, n_slots: int, meeting_cap: int, talent_deg: dict[str, int],
             ent_deg: dict[str, int], seen: set[tuple[str, str]]) -> str:
    """Why a meeting cannot be admitted now, or ``""`` when it can."""
    if n_slots == 0:
        return "活动未设置对接时段（time_slots）"
    if (m.talent_id, m.enterprise_id) in seen:
        return f"重复的对接：人才 {m.talent_id} 与企业 {m.enterprise_id} 已安排一场"
    t_deg = talent_deg.get(m.talent_id, 0)
    if t_deg >= meeting_cap:
        return f"人才 {m.talent_id} 的对接场次已达上限（{meeting_cap} 场）"
    if t_deg >= n_slots:
        return f"人才 {m.talent_id} 的时段已排满（共 {n_slots} 个时段）"
    if ent_deg.get(m.enterprise_id, 0) >= n_slots:
        return f"企业 {m.enterprise_id} 的时段已排满（共 {n_slots} 个时段）"
    return ""


def _colour(meetings: list[Meeting], n_colours: int) -> list[int]:
    """A proper edge colouring with ``n_colours`` colours (max degree must be ≤ it)."""
    used: dict[_Node, dict[int, _Node]] = {}
    for m in meetings:
        u, v = ("t", m.talent_id), ("e", m.enterprise_id)
        at_u, at_v = used.setdefault(u, {}), used.setdefault(v, {})
        common = next((c for c in range(n_colours) if c not in at_u and c not in at_v), None)
        if common is None:
            a = next(c for c in range(n_colours) if c not in at_u)
            b = next(c for c in range(n_colours) if c not in at_v)
            _flip(used, v, a, b)
            common = a
        at_u[common], at_v[common] = v, u
    edge_colour = {(u, v): c for u, row in used.items() if u[0] == "t" for c, v in row.items()}
    return [edge_colour[(("t", m.talent_id), ("e", m.enterprise_id))] for m in meetings]


def _flip(used: dict[_Node, dict[int, _Node]], start: _Node, a: int, b: int) -> None:
    """Swap colours ``a`` and ``b`` on the alternating path that leaves ``start`` by ``a``.

    ``b`` is free at ``start``; after the swap ``a`` is. In a bipartite graph the path never
    reaches the other end of the edge being coloured, where ``a`` is free.
    """
    path: list[tuple[_Node, _Node, int]] = []
    node, colour = start, a
    while colour in used[node]:
        nxt = used[node][colour]
        path.append((node, nxt, colour))
        node, colour = nxt, (b if colour == a else a)
    for x, y, c in path:
        del used[x][c]
        del used[y][c]
    for x, y, c in path:
        other = b if c == a else a
        used[x][other], used[y][other] = y, x
