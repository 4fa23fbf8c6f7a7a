"""City scope (issue #14, item 3: several cities on one installation).

Every record carries its programme ``city`` (平顶山, 南阳 …); an account may carry one too
(:attr:`data.store.users.User.city`). A *city-scoped* account — reviewer, enterprise,
organiser or admin — sees its city's records only: another city's record answers the same
404 as a missing one, lists and keyword searches are narrowed in SQL (``records.city``), and
match results, review queues, pairing runs, event shortlists and exports leave the other
cities out. An *unscoped* account (``city`` None: a province administrator, and every
account made before migration 0010) sees every city, as before.

The use cases of :mod:`api.services` call these helpers; routers and pages never filter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from api.services.errors import Forbidden, Invalid, NotFound
from api.services.types import JSONObject, User
from data.taxonomy import UnknownValueError

if TYPE_CHECKING:
    from api.application import Application

FIELD = "city"
LABEL = "所属城市"


def scope(user: User) -> str | None:
    """The city ``user`` is limited to, or None when it sees every city."""
    return user.city or None


def where(user: User) -> dict[str, str]:
    """The SQL filter of the caller's city: ``{"city": …}``, or nothing when unscoped."""
    city = scope(user)
    return {} if city is None else {FIELD: city}


def home(app: Application, user: User) -> str:
    """The city whose vocabularies the caller's forms use: its own, else the settings'."""
    return scope(user) or app.settings.city


def sees(user: User, record: object) -> bool:
    """Whether ``user`` may see ``record``: an unscoped caller sees everything, a scoped one
    the records of its city (a missing record, None, is not seen)."""
    city = scope(user)
    return city is None or getattr(record, FIELD, None) == city


def check(user: User, record: object, not_found: str) -> None:
    """404 with ``not_found`` (the caller's own "missing" message, word for word) when the
    record belongs to another city than the caller's: probing ids tells nothing."""
    if not sees(user, record):
        raise NotFound(not_found)


def keep(user: User, items: Iterable[JSONObject], records: Mapping[str, object],
         key: str = "talent_id") -> list[JSONObject]:
    """The items (JSON rows naming a record by ``key``) whose record the caller may see.

    Args:
        user: the caller.
        items: rows such as a match result's ``matches``.
        records: id → record of those rows (a row whose record is missing is dropped for a
            scoped caller).
        key: the row's field holding the record id.
    """
    rows = list(items)
    if scope(user) is None:
        return rows
    return [r for r in rows if sees(user, records.get(str(r[key])))]


def resolve(app: Application, value: str | None) -> str | None:
    """The taxonomy's name of a city (name, slug or alias), None for none given.

    Raises:
        Invalid: a city the taxonomy does not list (422; names the field and the choices).
    """
    if value is None or not value.strip():
        return None
    try:
        return app.taxonomy.city(value.strip()).name
    except UnknownValueError as exc:
        choices = "、".join(app.taxonomy.cities)
        raise Invalid(f"{LABEL} {FIELD}：未知的城市「{value.strip()}」；可选：{choices}"
                      ) from exc


def for_new_account(app: Application, creator: User | None, value: str | None) -> str | None:
    """The city of an account about to be created by ``creator`` (None: the CLI).

    A city-scoped admin creates accounts of its own city only (none given: its city); an
    unscoped admin or the CLI may create any city's account, or an unscoped one.

    Raises:
        Invalid: an unknown city (422).
        Forbidden: a city-scoped admin naming another city (403).
    """
    city = resolve(app, value)
    limit = None if creator is None else scope(creator)
    if limit is None:
        return city
    if city is not None and city != limit:
        raise Forbidden(f"{LABEL} {FIELD}：本账号只能创建「{limit}」的账号，不能创建「{city}」的账号")
    return limit


def stamp(app: Application, user: User, data: JSONObject) -> JSONObject:
    """``data`` (a record body about to be created or changed by ``user``) with its city.

    A scoped caller's records are of its city: a body naming another city is refused (422
    naming the field); none named gets the caller's. An unscoped caller's body is unchanged
    (the record's own city, else the model's default).

    Raises:
        Invalid: an unknown city, or another city than a scoped caller's.
    """
    city = scope(user)
    if city is None:
        return data
    value = data.get(FIELD)
    given = resolve(app, value) if isinstance(value, str) else None
    if given is not None and given != city:
        raise Invalid(f"{LABEL} {FIELD}：本账号只能录入「{city}」的数据，不能录入「{given}」的数据")
    return {**data, FIELD: city}
