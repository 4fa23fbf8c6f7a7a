"""Accounts and credentials: argon2 password hashes, hashed API tokens, signed sessions.

* Passwords are hashed with argon2 (``argon2-cffi``); the store keeps only the hash.
* API tokens are 32 random bytes shown once; the store keeps their SHA-256.
* API tokens expire (``token_days``, 90 by default) and can be revoked.
* The web session is a cookie signed with the session key (:mod:`api.service.secret`),
  HttpOnly and SameSite=Lax (Secure in production), holding the user id, the account's
  session epoch and the CSRF token. Logout, disabling the account and a password change
  bump the epoch, which revokes every session of the account.
* Password checks run at most ``login_concurrency`` at a time (argon2 takes 64 MiB each),
  and an unknown user is checked against a dummy hash, so both answer in the same time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from api.service.secret import SecretKeyError, session_key
from data.store.users import User

__all__ = ["SecretKeyError", "session_key"]

SESSION_COOKIE = "tm_session"
SESSION_MAX_AGE_S = 12 * 3600
DEFAULT_TOKEN_DAYS = 90
HASH_WAIT_S = 10.0
"""How long a login waits for a free hashing slot before 503."""

_hasher = PasswordHasher()
_dummy_hash: str | None = None
_dummy_lock = threading.Lock()

DEMO_ACCOUNTS: tuple[dict[str, Any], ...] = (
    {"username": "admin", "password": "admin-demo", "role": "admin"},
    {"username": "tech", "password": "tech-demo", "role": "reviewer",
     "work_group": "tech_return"},
    {"username": "talent", "password": "talent-demo", "role": "reviewer",
     "work_group": "talent_return"},
    {"username": "enterprise", "password": "enterprise-demo", "role": "enterprise"},
    {"username": "organizer", "password": "organizer-demo", "role": "organizer"},
)
"""The demo accounts of ``make run`` (one per role; the enterprise gets the first one)."""


def hash_password(password: str) -> str:
    """The argon2 hash of ``password``."""
    return _hasher.hash(password)


def _dummy() -> str:
    """A hash of a random password, made once: unknown users are checked against it."""
    global _dummy_hash
    with _dummy_lock:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
        return _dummy_hash


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``.

    Accounts without a hash (and unknown users, passed as None) are checked against a dummy
    hash and answer False in the same time as a wrong password.
    """
    try:
        ok = _hasher.verify(password_hash or _dummy(), password)
    except (VerificationError, InvalidHashError):
        return False
    return bool(ok) and bool(password_hash)


class HashingBusy(RuntimeError):
    """Every password-hashing slot stayed busy for :data:`HASH_WAIT_S`."""


class PasswordChecker:
    """Checks passwords with at most ``slots`` argon2 computations at a time."""

    def __init__(self, slots: int, wait_s: float = HASH_WAIT_S) -> None:
        """Allow ``slots`` concurrent checks; a caller waits up to ``wait_s`` for one.

        The dummy hash is made here (once per process), so the first unknown user does not
        answer slower than the others.
        """
        self._slots = threading.BoundedSemaphore(max(1, slots))
        self._wait_s = wait_s
        _dummy()

    def check(self, user: User | None, password: str) -> bool:
        """Whether ``password`` logs ``user`` in (None, disabled: False, same cost).

        Raises:
            HashingBusy: no slot became free in time.
        """
        if not self._slots.acquire(timeout=self._wait_s):
            raise HashingBusy("登录请求过多，请稍后重试")
        try:
            ok = verify_password(user.password_hash if user is not None else None, password)
        finally:
            self._slots.release()
        return ok and user is not None and not user.disabled


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which an API token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random API token (shown once, stored hashed)."""
    return "tm_" + secrets.token_urlsafe(32)


def issue_token(store: Any, user_id: str, days: int = DEFAULT_TOKEN_DAYS) -> tuple[str, str]:
    """A new API token for ``user_id`` valid ``days`` days.

    Returns:
        (the token in clear — show it once, its expiry as ISO time).
    """
    token = new_token()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    store.add_token(user_id, token_hash(token), expires_at=expires)
    return token, expires.isoformat(timespec="seconds")


def create_user(store: Any, username: str, role: str, *, password: str | None = None,
                work_group: str | None = None, enterprise_id: str | None = None,
                token_days: int = DEFAULT_TOKEN_DAYS,
                city: str | None = None) -> tuple[User, str]:
    """Create an account with a new API token.

    Args:
        store: the store.
        username: login name.
        role: admin, reviewer, enterprise or organizer.
        password: web login password (None: API token only).
        work_group: the reviewer's work group.
        enterprise_id: the enterprise account's enterprise.
        token_days: the API token's lifetime.
        city: the programme city the account is scoped to (None: unscoped); the caller
            has checked it against the taxonomy (:func:`api.services.cities.resolve`).

    Returns:
        The account and its API token in clear (print it once; only its hash is kept).
    """
    user = store.add_user(username, role, work_group=work_group, enterprise_id=enterprise_id,
                          password_hash=hash_password(password) if password else None,
                          city=city)
    token, _ = issue_token(store, user.id, token_days)
    return user, token


def ensure_demo_accounts(application: Any) -> list[dict[str, Any]]:
    """Create the demo accounts (one per role) when missing; idempotent.

    The enterprise account is bound to the enterprise with the most needs (an existing one
    keeps its enterprise). Passwords of existing demo accounts are reset to the demo ones so
    that the printed credentials always work.

    Args:
        application: the :class:`api.application.Application`.

    Returns:
        One dict per account: username, password, role, work_group, enterprise_id.
    """
    from collections import Counter

    store = application.store
    owners = Counter(n.enterprise_id for n in store.iter("needs") if n.enterprise_id)
    first = owners.most_common(1)[0][0] if owners else next(
        (e.id for e in store.iter("enterprises", batch_size=1)), None)
    out = []
    for spec in DEMO_ACCOUNTS:
        spec = dict(spec)
        existing = store.get_user(spec["username"])
        if spec["role"] == "enterprise":
            bound = existing.enterprise_id if existing is not None else first
            if bound is None:
                continue
            spec["enterprise_id"] = bound
        if existing is None:
            create_user(store, spec["username"], spec["role"], password=spec["password"],
                        work_group=spec.get("work_group"),
                        enterprise_id=spec.get("enterprise_id"))
        else:
            store.set_user_password(spec["username"], hash_password(spec["password"]))
            store.set_user_disabled(spec["username"], False)
        out.append({"username": spec["username"], "password": spec["password"],
                    "role": spec["role"], "work_group": spec.get("work_group"),
                    "enterprise_id": spec.get("enterprise_id")})
    return out


class Sessions:
    """Signs and reads the session cookie (user id, session epoch, CSRF token)."""

    def __init__(self, secret_key: str) -> None:
        """Bind to the session key."""
        self._serializer = URLSafeTimedSerializer(secret_key, salt="tm-session")

    def dump(self, user_id: str | None, csrf: str | None = None, epoch: int = 0) -> str:
        """A signed cookie value for ``user_id`` (None: anonymous, CSRF only).

        Args:
            user_id: the logged-in account, or None.
            csrf: the CSRF token to keep (default: a new one).
            epoch: the account's session epoch at login (a later one revokes the cookie).
        """
        return self._serializer.dumps({"uid": user_id, "ep": epoch,
                                       "csrf": csrf or secrets.token_urlsafe(24)})

    def load(self, value: str | None) -> dict[str, Any] | None:
        """The session data of a cookie value, or None when missing, forged or expired."""
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=SESSION_MAX_AGE_S)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None


def same_token(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens (False when either is missing)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
