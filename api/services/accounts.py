"""Accounts: the caller's own account, login and logout (the pages), and the account
administration of the CLI (add, list, disable, password, token, revoke)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from api.service.auth import HashingBusy, create_user, hash_password, issue_token
from api.services import cities
from api.services.errors import Invalid, NotFound
from api.services.types import JSONObject, User

if TYPE_CHECKING:
    from api.application import Application
    from api.service.state import ServiceState

ROLES = ("admin", "reviewer", "enterprise", "organizer")
MIN_PASSWORD = 8


def me(user: User) -> JSONObject:
    """The caller's account (no secrets)."""
    data: JSONObject = user.public()
    return data


@dataclass(frozen=True)
class LoginOutcome:
    """The answer to a login: the user, or why not (status, seconds to wait, message)."""

    user: User | None
    status: int = 200
    retry_after: int = 0
    message: str = ""


def login(state: ServiceState, username: str, password: str, address: str) -> LoginOutcome:
    """Check a password, throttled per account and per client address.

    Failed logins are throttled (429 with the wait before any hashing); unknown users cost
    the same hash as known ones; too many concurrent hashes answer 503.
    """
    name = username.strip()
    wait = state.throttle.attempt(name, address)  # counted as failed until it succeeds
    if wait:
        return LoginOutcome(None, 429, wait,
                            f"登录失败次数过多，请 {wait} 秒后再试（按账号和来源地址限制）")
    user = state.application.store.get_user(name)
    try:
        ok = state.passwords.check(user, password)
    except HashingBusy:
        return LoginOutcome(None, 503, 5, "登录请求过多，请稍后重试")
    if not ok or user is None:
        return LoginOutcome(None, 200, 0, "用户名或密码错误，或账号已停用")
    state.throttle.succeeded(name, address)
    return LoginOutcome(user)


def logout(state: ServiceState, user: User) -> None:
    """End every session of ``user`` (its session epoch moves on)."""
    state.application.store.end_sessions(user.id)
    state.forget_users()


def add(app: Application, username: str, role: str, *, work_group: str | None = None,
        enterprise_id: str | None = None, password: str | None = None,
        city: str | None = None, creator: User | None = None) -> tuple[User, str]:
    """Create an account; returns it and its API token in clear (shown once).

    Args:
        app: the application.
        username: login name.
        role: admin, reviewer, enterprise or organizer.
        work_group: the reviewer's work group.
        enterprise_id: the enterprise account's enterprise.
        password: web login password (None: API token only).
        city: the programme city the account is scoped to (a name, slug or alias of the
            taxonomy's cities; None: unscoped, sees every city).
        creator: the admin creating it (None: the CLI). A city-scoped admin creates
            accounts of its own city only; none given: its city.

    Raises:
        Invalid: an unknown role or city, or a missing work group / enterprise (422).
        Forbidden: a city-scoped admin naming another city (403).
        DuplicateIdError: the name is taken (409).
    """
    if role not in ROLES:
        raise Invalid(f"未知角色「{role}」；可选：{'、'.join(ROLES)}")
    scoped = cities.for_new_account(app, creator, city)
    try:
        return create_user(app.store, username, role, password=password, work_group=work_group,
                           enterprise_id=enterprise_id, token_days=app.settings.token_days,
                           city=scoped)
    except ValueError as exc:
        from data.store.errors import DuplicateIdError

        if isinstance(exc, DuplicateIdError):
            raise
        raise Invalid(str(exc)) from exc


def listing(app: Application) -> list[User]:
    """Every account."""
    return list(app.store.list_users())


def get(app: Application, username: str) -> User:
    """The account ``username`` (404 when there is none)."""
    found = app.store.get_user(username)
    if found is None:
        raise NotFound(f"找不到账号「{username}」")
    return found


def disable(app: Application, username: str) -> None:
    """Disable an account (its sessions end; its logins and API tokens stop working)."""
    from data.store.errors import NotFoundError

    try:
        app.store.set_user_disabled(username, True)
    except NotFoundError as exc:
        raise NotFound(f"找不到账号「{username}」") from exc


def set_city(app: Application, username: str, city: str | None) -> User:
    """Move an account to another programme city, or make it unscoped (``None``); its
    sessions end, so none keeps the old scope (the CLI's ``user city``).

    Raises:
        Invalid: an unknown city (422).
        NotFound: no such account.
    """
    from data.store.errors import NotFoundError

    resolved = cities.resolve(app, city)
    if city is not None and resolved is None:
        raise Invalid(f"{cities.LABEL} {cities.FIELD}：城市不能为空（不限城市请用 --unscoped）")
    try:
        return app.store.set_user_city(username, resolved)
    except NotFoundError as exc:
        raise NotFound(f"找不到账号「{username}」") from exc


def set_password(app: Application, username: str, password: str) -> None:
    """Set a new web login password (the account's sessions end)."""
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"密码至少 {MIN_PASSWORD} 个字符")
    get(app, username)
    app.store.set_user_password(username, hash_password(password))


def new_token(app: Application, username: str, days: int | None = None) -> tuple[str, str]:
    """Issue a new API token; returns (the token in clear, its expiry)."""
    user = get(app, username)
    return issue_token(app.store, user.id, days or app.settings.token_days)


def revoke(app: Application, username: str) -> int:
    """Revoke every API token of an account and end its sessions; the tokens revoked."""
    user = get(app, username)
    n = int(app.store.revoke_tokens(user.id))
    app.store.end_sessions(user.id)
    return n


def demo_accounts(app: Application) -> list[JSONObject]:
    """Create (or reset) one demo account per role; their names and passwords."""
    from api.service.auth import ensure_demo_accounts

    return list(ensure_demo_accounts(app))
