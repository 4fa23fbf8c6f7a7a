"""Accounts and credentials: argon2 password hashes, hashed API tokens, signed sessions.

* Passwords are hashed with argon2 (``argon2-cffi``); the store keeps only the hash.
* API tokens are 32 random bytes shown once; the store keeps their SHA-256.
* The web session is a cookie signed with the settings' secret key (``itsdangerous``),
  HttpOnly and SameSite=Lax, holding the user id and the CSRF token of the session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from data.store.users import User

SESSION_COOKIE = "tm_session"
SESSION_MAX_AGE_S = 12 * 3600
DEFAULT_SECRET = "dev-secret-change-me"

_hasher = PasswordHasher()

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


class SecretKeyError(RuntimeError):
    """Production mode with the default (or an empty) secret key."""


def check_secret(settings: Any) -> None:
    """Refuse the default secret key in production.

    Raises:
        SecretKeyError: ``environment`` is production and the secret is the default.
    """
    if str(settings.environment).lower() in {"production", "prod"} and (
            not settings.secret_key or settings.secret_key == DEFAULT_SECRET
            or len(settings.secret_key) < 16):
        raise SecretKeyError(
            "生产模式 (TALENTMATCH_ENVIRONMENT=production) 不能使用默认密钥：请设置 "
            "TALENTMATCH_SECRET_KEY 为至少 16 个字符的随机字符串，例如 "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'")


def hash_password(password: str) -> str:
    """The argon2 hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (False for accounts without one)."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which an API token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random API token (shown once, stored hashed)."""
    return "tm_" + secrets.token_urlsafe(32)


def create_user(store: Any, username: str, role: str, *, password: str | None = None,
                work_group: str | None = None,
                enterprise_id: str | None = None) -> tuple[User, str]:
    """Create an account with a new API token.

    Args:
        store: the store.
        username: login name.
        role: admin, reviewer, enterprise or organizer.
        password: web login password (None: API token only).
        work_group: the reviewer's work group.
        enterprise_id: the enterprise account's enterprise.

    Returns:
        The account and its API token in clear (print it once; only its hash is kept).
    """
    user = store.add_user(username, role, work_group=work_group, enterprise_id=enterprise_id,
                          password_hash=hash_password(password) if password else None)
    token = new_token()
    store.add_token(user.id, token_hash(token))
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
    """Signs and reads the session cookie (user id + CSRF token)."""

    def __init__(self, secret_key: str) -> None:
        """Bind to the settings' secret key."""
        self._serializer = URLSafeTimedSerializer(secret_key, salt="tm-session")

    def dump(self, user_id: str | None, csrf: str | None = None) -> str:
        """A signed cookie value for ``user_id`` (None: anonymous, CSRF only)."""
        return self._serializer.dumps({"uid": user_id, "csrf": csrf or secrets.token_urlsafe(24)})

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
