"""Loading a matchmaking event for the CLI: a JSON file, or the built-in sample event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from data.records import Event

SAMPLE_EVENT = Event(
    id="EV-sample",
    name="百名鹰才鹰商项目对接会（样例）",
    capacity=100,
    time_slots=["09:00-09:30", "09:30-10:00", "10:00-10:30", "10:30-11:00",
                "14:00-14:30", "14:30-15:00", "15:00-15:30", "15:30-16:00"],
)
"""The sample event: every open need takes part, 100 places, eight half-hour slots."""


def load_event(spec: str) -> Event:
    """The event named by ``spec``: ``sample``, or a JSON file of an :class:`Event`.

    Raises:
        ValueError: the file is missing or does not hold a valid event (the message says why).
    """
    if spec == "sample":
        return SAMPLE_EVENT
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"找不到活动文件「{spec}」（或使用 sample）")
    try:
        return Event.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, ValueError) as exc:
        raise ValueError(f"活动文件「{spec}」无效：{exc}") from exc


def find_event(store: Any, event_id: str) -> Event:
    """The stored event ``event_id``, or the sample event for ``EV-sample``.

    Raises:
        LookupError: no such event (the message names it).
    """
    data = store.get_event(event_id)
    if data is not None:
        return Event.model_validate(data)
    if event_id == SAMPLE_EVENT.id:
        return SAMPLE_EVENT
    raise LookupError(f"找不到对接活动「{event_id}」：可用 GET /api/v1/events 查看")
