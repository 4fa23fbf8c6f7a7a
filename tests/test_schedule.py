"""Meeting schedule: no double-booking, caps, unplaced meetings with reasons."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import schedule as schedule_module
from matching.schedule import Meeting, Schedule, schedule_meetings

SLOTS = ["09:00-09:20", "09:20-09:40", "09:40-10:00"]


def _assert_no_double_booking(schedule: Schedule, meeting_cap: int) -> None:
    talent_slots = Counter((m.talent_id, m.slot) for m in schedule.meetings)
    ent_slots = Counter((m.enterprise_id, m.slot) for m in schedule.meetings)
    assert max(talent_slots.values(), default=0) <= 1
    assert max(ent_slots.values(), default=0) <= 1
    per_talent = Counter(m.talent_id for m in schedule.meetings)
    assert max(per_talent.values(), default=0) <= meeting_cap
    assert all(m.slot in schedule.slots for m in schedule.meetings)


def test_two_meetings_of_one_talent_get_different_slots() -> None:
    schedule = schedule_meetings([Meeting("t1", "e1", 0.9), Meeting("t1", "e2", 0.8)], SLOTS)
    slots = [slot for slot, _ in schedule.by_talent()["t1"]]
    assert len(set(slots)) == 2
    assert not schedule.unplaced


def test_enterprise_with_more_meetings_than_slots_reports_lowest_priority() -> None:
    meetings = [Meeting(f"t{i}", "e1", priority=i / 10) for i in range(5)]
    schedule = schedule_meetings(meetings, SLOTS)
    assert len(schedule.meetings) == 3
    assert {u.meeting.talent_id for u in schedule.unplaced} == {"t0", "t1"}
    assert all("企业 e1" in u.reason for u in schedule.unplaced)
    assert schedule.messages


def test_meeting_cap_limits_a_talent() -> None:
    meetings = [Meeting("t1", f"e{i}", priority=1 - i / 10) for i in range(3)]
    schedule = schedule_meetings(meetings, SLOTS, meeting_cap=2)
    assert [m.enterprise_id for m in schedule.meetings if m.talent_id == "t1"] != []
    assert len(schedule.meetings) == 2
    assert schedule.unplaced[0].meeting.enterprise_id == "e2"
    assert "上限" in schedule.unplaced[0].reason


def test_duplicates_and_no_slots_are_reported() -> None:
    dup = schedule_meetings([Meeting("t1", "e1"), Meeting("t1", "e1")], SLOTS)
    assert len(dup.meetings) == 1 and "重复" in dup.unplaced[0].reason
    none = schedule_meetings([Meeting("t1", "e1")], [])
    assert not none.meetings and "时段" in none.unplaced[0].reason


def test_ids_shared_by_a_talent_and_an_enterprise_do_not_clash() -> None:
    schedule = schedule_meetings([Meeting("x", "x"), Meeting("x", "y"), Meeting("z", "x")],
                                 SLOTS[:2])
    assert len(schedule.meetings) == 3
    _assert_no_double_booking(schedule, 4)


def test_no_common_free_slot_is_resolved_by_a_kempe_flip(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """t0–e0 comes last: t0 has only slot 0 free, e0 only slot 1; a path flip frees one."""
    flips: list[int] = []
    original = schedule_module._flip

    def spy(*args: object) -> None:
        flips.append(1)
        original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(schedule_module, "_flip", spy)
    meetings = [Meeting("t1", "e0", 0.9), Meeting("t2", "e1", 0.8), Meeting("t0", "e1", 0.7),
                Meeting("t0", "e0", 0.6)]
    schedule = schedule_meetings(meetings, SLOTS[:2])
    assert flips
    assert len(schedule.meetings) == 4 and not schedule.unplaced
    _assert_no_double_booking(schedule, 4)


def test_complete_bipartite_graph_uses_every_slot() -> None:
    meetings = [Meeting(f"t{i}", f"e{j}", priority=(i * 7 + j * 3) % 5)
                for i in range(3) for j in range(3)]
    schedule = schedule_meetings(meetings, SLOTS)
    assert len(schedule.meetings) == 9 and not schedule.unplaced
    _assert_no_double_booking(schedule, 4)


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="重复"):
        schedule_meetings([], ["a", "a"])
    with pytest.raises(ValueError, match="meeting_cap"):
        schedule_meetings([], SLOTS, meeting_cap=-1)


meeting_lists = st.lists(
    st.tuples(st.integers(0, 7), st.integers(0, 5), st.floats(0, 1)), max_size=60)


@settings(max_examples=150, deadline=None)
@given(meeting_lists, st.integers(0, 6), st.integers(0, 5))
def test_random_instances_never_double_book(rows: list[tuple[int, int, float]], n_slots: int,
                                             cap: int) -> None:
    meetings = [Meeting(f"t{t}", f"e{e}", p) for t, e, p in rows]
    slots = [f"s{i}" for i in range(n_slots)]
    schedule = schedule_meetings(meetings, slots, meeting_cap=cap)
    _assert_no_double_booking(schedule, cap)
    assert len(schedule.meetings) + len(schedule.unplaced) == len(meetings)
    # every unplaced meeting is blocked by a real limit of the placed schedule
    per_talent = Counter(m.talent_id for m in schedule.meetings)
    per_ent = Counter(m.enterprise_id for m in schedule.meetings)
    pairs = {(m.talent_id, m.enterprise_id) for m in schedule.meetings}
    for u in schedule.unplaced:
        m = u.meeting
        assert ((m.talent_id, m.enterprise_id) in pairs
                or per_talent[m.talent_id] >= min(cap, n_slots)
                or per_ent[m.enterprise_id] >= n_slots)


def test_per_talent_caps_override_the_default() -> None:
    meetings = [Meeting("t1", f"e{i}") for i in range(3)] + [Meeting("t2", f"e{i}")
                                                             for i in range(3)]
    schedule = schedule_meetings(meetings, SLOTS, meeting_cap=3, caps={"t1": 1})
    per_talent = Counter(m.talent_id for m in schedule.meetings)
    assert per_talent == {"t1": 1, "t2": 3}
