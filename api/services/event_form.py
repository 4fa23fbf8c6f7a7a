"""The organiser's event form: create a matchmaking event (name, date, venue, theme,
participating needs or chains, capacity, meeting slots), with Chinese errors per field.

Texts are stripped and a text of spaces only is refused. Participants are needs (ids of open
needs) or industry chains (every open need of the chain takes part); neither means every
open need, as in the sample event.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import ValidationError

from api.services import cities, events
from api.services.types import JSONObject, User
from api.typed import each
from data.records import Event, Need, NeedStatus

if TYPE_CHECKING:
    from api.application import Application

LABELS = {"name": "活动名称", "date": "活动日期", "venue": "地点", "theme": "主题",
          "theme_chains": "参会产业链", "need_ids": "参会需求", "capacity": "名单容量",
          "time_slots": "对接时段"}
"""Form field → its label."""
TEXTS = ("name", "venue", "theme", "time_slots", "capacity", "date")
DEFAULT_SLOTS = "09:00-09:30、09:30-10:00、10:00-10:30、10:30-11:00、14:00-14:30、14:30-15:00"
SLOT = re.compile(r"^\d{1,2}:\d{2}(-\d{1,2}:\d{2})?$")


@dataclass
class EventForm:
    """A checked event form: values to show again, errors per field, the event when valid."""

    values: dict[str, str]
    chosen_chains: list[str] = field(default_factory=list)
    chosen_needs: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    event: Event | None = None


@dataclass
class EventChoices:
    """The choices of the form: the city's chains and the open needs (id, label)."""

    chains: list[str]
    needs: list[tuple[str, str]]


def choices(app: Application, user: User | None = None) -> EventChoices:
    """The chains and open needs the form offers: the caller's city's (a city-scoped
    organiser), else the settings' city's chains and every open need."""
    city = app.settings.city if user is None else cities.home(app, user)
    chains = [str(e["name"]) for e in app.taxonomy.vocabulary("chain", city).entries]
    where = {} if user is None else cities.where(user)
    needs = [(n.id, f"{n.title}（{n.chain or '—'}）")
             for entity in ("needs", "challenges")
             for n in each(Need, app.store.iter_where(entity, where))
             if n.status == NeedStatus.open]
    return EventChoices(chains, needs)


def blank() -> EventForm:
    """The empty form (default capacity and slots)."""
    values = {f: "" for f in TEXTS}
    values.update(capacity="100", time_slots=DEFAULT_SLOTS)
    return EventForm(values)


def check(app: Application, form: Mapping[str, str], chains: Sequence[str],
          need_ids: Sequence[str], user: User | None = None) -> EventForm:
    """Check the posted event form; the errors name the field in Chinese. The event is of
    the caller's city (:func:`api.services.cities.home`)."""
    raw = {f: str(form.get(f) or "") for f in TEXTS}
    out = EventForm({f: v.strip() for f, v in raw.items()},
                    [c.strip() for c in chains if c.strip()],
                    [n.strip() for n in need_ids if n.strip()])
    errors, values = out.errors, out.values
    for name, text in raw.items():
        if text and not text.strip():
            errors[name] = f"{LABELS[name]}不能只填空格"
    if "name" not in errors and not values["name"]:
        errors["name"] = f"请填写{LABELS['name']}"
    for name, limit in (("name", 200), ("venue", 200), ("theme", 200)):
        if name not in errors and len(values[name]) > limit:
            errors[name] = f"{LABELS[name]}最多 {limit} 个字"
    day = None
    if values["date"] and "date" not in errors:
        try:
            day = dt.date.fromisoformat(values["date"])
        except ValueError:
            errors["date"] = f"{LABELS['date']}须为日期，格式如 2026-12-31"
    capacity = 100
    if "capacity" not in errors and values["capacity"]:
        try:
            capacity = int(values["capacity"])
            if not 1 <= capacity <= 10000:
                raise ValueError
        except ValueError:
            errors["capacity"] = f"{LABELS['capacity']}须为 1 到 10000 之间的整数"
    slots = [s.strip() for s in re.split(r"[、，,;；\s]+", values["time_slots"]) if s.strip()]
    bad = [s for s in slots if not SLOT.match(s)]
    if bad and "time_slots" not in errors:
        errors["time_slots"] = (f"{LABELS['time_slots']}格式如 09:00-09:30，用顿号分隔；"
                                f"无法识别：{'、'.join(bad[:3])}")
    offered = choices(app, user)
    unknown_chains = [c for c in out.chosen_chains if c not in offered.chains]
    if unknown_chains:
        errors["theme_chains"] = f"{LABELS['theme_chains']}不在可选范围内：{'、'.join(unknown_chains)}"
    open_ids = {i for i, _ in offered.needs}
    unknown_needs = [n for n in out.chosen_needs if n not in open_ids]
    if unknown_needs:
        errors["need_ids"] = f"{LABELS['need_ids']}不是开放的需求：{'、'.join(unknown_needs[:5])}"
    if errors:
        return out
    data: JSONObject = {"id": f"EV-{uuid.uuid4().hex[:8]}", "name": values["name"],
                        "city": app.settings.city if user is None else cities.home(app, user),
                        "date": day.isoformat() if day else None,
                        "venue": values["venue"] or None, "theme": values["theme"] or None,
                        "capacity": capacity, "theme_chains": list(out.chosen_chains),
                        "need_ids": list(out.chosen_needs), "time_slots": list(slots)}
    try:
        out.event = Event.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "name"
            errors.setdefault(name, f"{LABELS.get(name, name)}填写有误，请检查")
    return out


def create(app: Application, checked: EventForm) -> str:
    """Store the checked event; returns its id."""
    assert checked.event is not None, "create() takes a form without errors"
    events.put(app, checked.event)
    return checked.event.id
