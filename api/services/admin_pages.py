"""What the admin pages (issue #13 §17) show and do: accounts (add, disable, reset a
password), the index status, and the newest jobs of a kind. Imports and pairing runs use
:mod:`api.services.transfer` and :mod:`api.services.pairing`."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from api.services import accounts, admin, cities, jobs
from api.services.errors import Forbidden, Invalid
from api.services.review_export import TZ_LABEL, beijing
from api.services.types import JSONObject, User

if TYPE_CHECKING:
    from api.service.state import ServiceState

PASSWORD_BYTES = 9
"""A reset password is ``secrets.token_urlsafe(9)`` (12 characters), shown once."""


def only_admin(user: User) -> None:
    """403 (Chinese) unless ``user`` is an admin."""
    if user.role != "admin":
        raise Forbidden("只有管理员可以使用管理页面")


def users(state: ServiceState, me: User | None = None) -> list[JSONObject]:
    """Every account (a city-scoped admin: its city's), without secrets, sorted by role
    then name."""
    found = [u for u in accounts.listing(state.application)
             if me is None or cities.scope(me) is None or u.city == cities.scope(me)]
    return [u.public() for u in sorted(found, key=lambda u: (u.role, u.username))]


def city_choices(state: ServiceState, me: User) -> list[str]:
    """The cities the admin ``me`` may give a new account: its own (scoped), else every
    city of the taxonomy (an empty choice, unscoped, comes first on the form)."""
    own = cities.scope(me)
    return [own] if own else list(state.application.taxonomy.cities)


def _check_manages(state: ServiceState, me: User, username: str) -> None:
    """403 when a city-scoped admin acts on an account outside its city."""
    own = cities.scope(me)
    if own is not None and accounts.get(state.application, username).city != own:
        raise Forbidden(f"本账号只能管理「{own}」的账号")


def add_user(state: ServiceState, username: str, role: str, work_group: str | None,
             enterprise_id: str | None, password: str, city: str | None = None,
             me: User | None = None) -> None:
    """Create an account with a web password (at least 8 characters), in ``city``
    (empty: unscoped; a city-scoped admin ``me``: its city only).

    Raises:
        Invalid: a short password, an unknown role or city, or a missing binding (422).
        Forbidden: a city-scoped admin naming another city (403).
        DuplicateIdError: the name is taken (409).
    """
    name = username.strip()
    if not name:
        raise Invalid("请填写用户名 username")
    if len(password) < accounts.MIN_PASSWORD:
        raise Invalid(f"密码至少 {accounts.MIN_PASSWORD} 个字符")
    accounts.add(state.application, name, role,
                 work_group=(work_group or None) if role == "reviewer" else None,
                 enterprise_id=(enterprise_id or "").strip() or None
                 if role == "enterprise" else None,
                 password=password, city=(city or "").strip() or None, creator=me)
    state.forget_users()


def set_disabled(state: ServiceState, me: User, username: str, disabled: bool) -> None:
    """Disable (its sessions and tokens stop at once) or enable an account; never one's own."""
    if username == me.username:
        raise Invalid("不能停用自己的账号")
    _check_manages(state, me, username)
    if disabled:
        accounts.disable(state.application, username)
    else:
        accounts.get(state.application, username)
        state.application.store.set_user_disabled(username, False)
    state.forget_users()


def reset_password(state: ServiceState, username: str, me: User | None = None) -> str:
    """A new random password for ``username`` (its sessions end); returned once. A
    city-scoped admin ``me`` resets its city's accounts only (403)."""
    if me is not None:
        _check_manages(state, me, username)
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    accounts.set_password(state.application, username, password)
    state.forget_users()
    return password


def index_status(state: ServiceState) -> JSONObject:
    """The serving index: built or not, its manifest, versions and the latest update job."""
    app = state.application
    built = admin.index_built(app)
    info: JSONObject = admin.index_info(app) if built else {}
    if info.get("created_at"):
        info["created_at_bj"] = f"{beijing(str(info['created_at']))}（{TZ_LABEL}）"
    return {"built": built, "info": info}


def latest_job(state: ServiceState, user: User, kind: str, job_id: str | None = None
               ) -> JSONObject | None:
    """The job ``job_id`` (when the caller may see it), else the newest job of ``kind``."""
    if job_id:
        found = jobs.visible(state, user, job_id)
        return jobs.view(found) if found is not None else None
    items = jobs.listing(state, user, kind, 1)["items"]
    return items[0] if isinstance(items, list) and items else None  # type: ignore[return-value]
