"""The accounts part of the store: service users and their hashed API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from data.store import users
from data.store.base import Connected


class AccountStore(Connected):
    """Service accounts, sessions (epochs) and API tokens; the store sees only hashes."""

    def add_user(self, username: str, role: str, *, password_hash: str | None = None,
                 work_group: str | None = None, enterprise_id: str | None = None,
                 city: str | None = None) -> users.User:
        """Create a service account (see :func:`data.store.users.add_user`)."""
        with self._write() as conn:
            return users.add_user(conn, username, role, password_hash=password_hash,
                                  work_group=work_group, enterprise_id=enterprise_id,
                                  city=city)

    def get_user(self, username: str) -> users.User | None:
        """The account named ``username``, or None."""
        with self._read() as conn:
            return users.get_by_name(conn, username)

    def get_user_by_id(self, user_id: str) -> users.User | None:
        """The account ``user_id``, or None."""
        with self._read() as conn:
            return users.get_user(conn, user_id)

    def list_users(self) -> list[users.User]:
        """Every account."""
        with self._read() as conn:
            return users.list_users(conn)

    def set_user_disabled(self, username: str, disabled: bool = True) -> users.User:
        """Disable (or enable) an account; NotFoundError when there is none."""
        with self._write() as conn:
            return users.set_disabled(conn, username, disabled)

    def set_user_password(self, username: str, password_hash: str) -> None:
        """Replace an account's password hash; NotFoundError when there is none."""
        with self._write() as conn:
            users.set_password(conn, username, password_hash)

    def set_user_city(self, username: str, city: str | None) -> users.User:
        """Change or clear an account's city (its sessions end); NotFoundError when none."""
        with self._write() as conn:
            return users.set_city(conn, username, city)

    def end_sessions(self, user_id: str) -> int:
        """Revoke every session of an account (bump its epoch); returns the new epoch."""
        with self._write() as conn:
            return users.end_sessions(conn, user_id)

    def add_token(self, user_id: str, token_hash: str,
                  expires_at: dt.datetime | None = None) -> None:
        """Store the hash of a new API token (expiring at ``expires_at``)."""
        with self._write() as conn:
            users.add_token(conn, user_id, token_hash, expires_at)

    def user_by_token(self, token_hash: str) -> users.User | None:
        """The account owning a live (unexpired, unrevoked) token with this hash, or None."""
        with self._read() as conn:
            return users.user_by_token(conn, token_hash)

    def revoke_tokens(self, user_id: str) -> int:
        """Revoke every live API token of an account; returns how many."""
        with self._write() as conn:
            return users.revoke_tokens(conn, user_id)

    def tokens_of(self, user_id: str) -> list[dict[str, Any]]:
        """An account's API tokens: created, expires, revoked (no hashes)."""
        with self._read() as conn:
            return users.tokens_of(conn, user_id)
