"""Service accounts on an open connection: users and their hashed API tokens.

The store keeps only hashes (a password hash made by the service, the SHA-256 of an API
token); it never sees a password or a token in clear and knows nothing of HTTP.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from data.store import rows
from data.store.errors import DuplicateIdError, NotFoundError
from data.store.tables import api_tokens, users

ROLES = ("admin", "reviewer", "enterprise", "organizer")
"""The service roles."""


@dataclass(frozen=True)
class User:
    """A service account (no secrets besides the password hash).

    Attributes:
        id: stable id.
        username: login name.
        role: admin, reviewer, enterprise or organizer.
        work_group: the reviewer's work group (tech_return …), else None.
        enterprise_id: the enterprise account's enterprise, else None.
        disabled: a disabled account cannot log in nor use its tokens.
        password_hash: the password hash (None: token only).
        created_at: ISO time of creation.
        session_epoch: sessions issued under an older epoch are revoked.
        city: the programme city the account is scoped to (it sees that city's data
            only), or None: unscoped (a province administrator; accounts made before
            migration 0010).
    """

    id: str
    username: str
    role: str
    work_group: str | None = None
    enterprise_id: str | None = None
    disabled: bool = False
    password_hash: str | None = None
    created_at: str = ""
    session_epoch: int = 0
    city: str | None = None

    def public(self) -> dict[str, Any]:
        """The account without its password hash (JSON-ready)."""
        return {"id": self.id, "username": self.username, "role": self.role,
                "work_group": self.work_group, "enterprise_id": self.enterprise_id,
                "disabled": self.disabled, "created_at": self.created_at,
                "city": self.city}


def _to_user(row: Mapping[Any, Any]) -> User:
    created = row["created_at"]
    return User(id=row["id"], username=row["username"], role=row["role"],
                work_group=row["work_group"], enterprise_id=row["enterprise_id"],
                disabled=bool(row["disabled"]), password_hash=row["password_hash"],
                created_at=rows.utc(created).isoformat() if created else "",
                session_epoch=int(row.get("session_epoch") or 0),
                city=row.get("city") or None)


def check_role(role: str, work_group: str | None, enterprise_id: str | None) -> None:
    """Raise ValueError (Chinese message) when the role's binding is missing or wrong."""
    if role not in ROLES:
        raise ValueError(f"未知角色 role「{role}」；可选：{'、'.join(ROLES)}")
    if role == "reviewer" and not work_group:
        raise ValueError("审核员 (reviewer) 必须指定工作小组 --work-group")
    if role == "enterprise" and not enterprise_id:
        raise ValueError("企业账号 (enterprise) 必须指定企业编号 --enterprise-id")


def add_user(conn: Connection, username: str, role: str, *, password_hash: str | None = None,
             work_group: str | None = None, enterprise_id: str | None = None,
             city: str | None = None) -> User:
    """Create an account (``city``: its programme city, None for an unscoped account; the
    caller checks the name against the taxonomy).

    Raises:
        ValueError: unknown role or a missing binding.
        DuplicateIdError: the username is taken.
    """
    check_role(role, work_group, enterprise_id)
    if get_by_name(conn, username) is not None:
        raise DuplicateIdError("users", [username])
    row = {"id": f"U{uuid.uuid4().hex[:12]}", "username": username, "role": role,
           "password_hash": password_hash,
           "work_group": work_group if role == "reviewer" else None,
           "enterprise_id": enterprise_id if role == "enterprise" else None,
           "disabled": False, "created_at": rows.now(), "city": city or None}
    conn.execute(sa.insert(users), [row])
    return _to_user(row)


def get_by_name(conn: Connection, username: str) -> User | None:
    """The account named ``username``, or None."""
    row = conn.execute(sa.select(users).where(users.c.username == username)).mappings().first()
    return None if row is None else _to_user(row)


def get_user(conn: Connection, user_id: str) -> User | None:
    """The account ``user_id``, or None."""
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
    return None if row is None else _to_user(row)


def list_users(conn: Connection) -> list[User]:
    """Every account, by username."""
    return [_to_user(r) for r in conn.execute(sa.select(users).order_by(users.c.username))
            .mappings()]


def _change_ending_sessions(conn: Connection, username: str, **values: object) -> None:
    """Set ``values`` on an account and revoke its sessions (bump its epoch).

    Raises:
        NotFoundError: no such account.
    """
    stmt = sa.update(users).where(users.c.username == username).values(
        **values, session_epoch=users.c.session_epoch + 1)
    if conn.execute(stmt).rowcount != 1:
        raise NotFoundError("user", username)


def _changed(conn: Connection, username: str, **values: object) -> User:
    _change_ending_sessions(conn, username, **values)
    found = get_by_name(conn, username)
    assert found is not None
    return found


def set_disabled(conn: Connection, username: str, disabled: bool = True) -> User:
    """Disable (or enable) an account; either revokes its sessions.

    Raises:
        NotFoundError: no such account.
    """
    return _changed(conn, username, disabled=disabled)


def set_password(conn: Connection, username: str, password_hash: str) -> None:
    """Replace an account's password hash; revokes its sessions.

    Raises:
        NotFoundError: no such account.
    """
    _change_ending_sessions(conn, username, password_hash=password_hash)


def set_city(conn: Connection, username: str, city: str | None) -> User:
    """Change (or clear, ``None``) an account's city; revokes its sessions, so no session
    keeps the old scope.

    Raises:
        NotFoundError: no such account.
    """
    return _changed(conn, username, city=city)


def end_sessions(conn: Connection, user_id: str) -> int:
    """Revoke every session of ``user_id`` (bump its epoch); returns the new epoch.

    Raises:
        NotFoundError: no such account.
    """
    stmt = sa.update(users).where(users.c.id == user_id).values(
        session_epoch=users.c.session_epoch + 1)
    if conn.execute(stmt).rowcount != 1:
        raise NotFoundError("user", user_id)
    epoch = conn.execute(sa.select(users.c.session_epoch).where(users.c.id == user_id)).scalar()
    return int(epoch or 0)


def add_token(conn: Connection, user_id: str, token_hash: str,
              expires_at: dt.datetime | None = None) -> None:
    """Store the hash of a new API token of ``user_id`` (expiring at ``expires_at``)."""
    conn.execute(sa.insert(api_tokens), [{"token_hash": token_hash, "user_id": user_id,
                                          "created_at": rows.now(), "expires_at": expires_at}])


def user_by_token(conn: Connection, token_hash: str) -> User | None:
    """The account owning this token hash, or None (also when expired or revoked)."""
    now = rows.now()
    query = sa.select(users).join(api_tokens, api_tokens.c.user_id == users.c.id).where(
        api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None),
        sa.or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now))
    row = conn.execute(query).mappings().first()
    return None if row is None else _to_user(row)


def revoke_tokens(conn: Connection, user_id: str) -> int:
    """Revoke every live API token of ``user_id``; returns how many."""
    stmt = sa.update(api_tokens).where(api_tokens.c.user_id == user_id,
                                       api_tokens.c.revoked_at.is_(None)).values(
        revoked_at=rows.now())
    return int(conn.execute(stmt).rowcount or 0)


def tokens_of(conn: Connection, user_id: str) -> list[dict[str, Any]]:
    """The API tokens of ``user_id`` (no hashes): created, expires, revoked (ISO or None)."""
    def iso(v: Any) -> str | None:
        return rows.utc(v).isoformat(timespec="seconds") if v else None

    query = sa.select(api_tokens.c.created_at, api_tokens.c.expires_at,
                      api_tokens.c.revoked_at).where(api_tokens.c.user_id == user_id).order_by(
        api_tokens.c.created_at)
    return [{"created_at": iso(r.created_at), "expires_at": iso(r.expires_at),
             "revoked_at": iso(r.revoked_at)} for r in conn.execute(query)]
