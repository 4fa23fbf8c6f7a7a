"""The one authorisation table: which roles may call which endpoint (action).

Every API route declares its action with ``Depends(require("<action>"))``; the matrix test
walks this table. Row-level rules (an enterprise sees its own needs only, a reviewer decides
in its own work group) are applied in the routers on top of it, and masking in
:mod:`api.service.masking`.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException

from api.service.deps import current_user
from data.store.users import User

ALL = frozenset({"admin", "reviewer", "enterprise", "organizer"})
STAFF = frozenset({"admin", "reviewer", "organizer"})
ADMIN = frozenset({"admin"})

TABLE: dict[str, frozenset[str]] = {
    "me": ALL,
    "talents.read": ALL,  # enterprise: masked (no contact, no exact employer)
    "talents.write": ADMIN,
    "enterprises.read": ALL,
    "enterprises.write": ADMIN,
    "needs.read": ALL,  # enterprise: its own needs only
    "needs.write": frozenset({"admin", "enterprise"}),  # enterprise: for itself only
    "challenges.read": ALL,  # enterprise: its own only
    "challenges.write": ADMIN,
    "projects.read": STAFF,
    "projects.write": ADMIN,
    "events.read": frozenset({"admin", "organizer"}),
    "events.write": frozenset({"admin", "organizer"}),
    "import": ADMIN,
    "export": frozenset({"admin", "organizer"}),  # contacts: admin only
    "matches.need": ALL,  # enterprise: own needs, masked
    "matches.talent": STAFF,
    "leads": STAFF,
    "runs.create": ADMIN,
    "runs.read": frozenset({"admin", "reviewer"}),
    "suggestions.read": frozenset({"admin", "reviewer"}),  # reviewer: own work group
    "suggestions.decide": frozenset({"admin", "reviewer"}),  # reviewer: own work group
    "audit.read": frozenset({"admin", "reviewer"}),  # reviewer: own work group
    "events.shortlist": frozenset({"admin", "organizer"}),
    "events.export": frozenset({"admin", "organizer"}),  # contacts: admin, organizer
    "jobs.read": ALL,  # own jobs (admin: all; demand-map jobs: everyone)
    "index.update": ADMIN,
    "demand_map.compute": ADMIN,
}
"""action → roles allowed. Anonymous callers get 401 everywhere except ``/healthz``."""

CONTACT_EXPORT_ROLES: dict[str, frozenset[str]] = {
    "export": ADMIN,
    "events.export": frozenset({"admin", "organizer"}),
}
"""Roles whose exports carry contact fields."""

ROLE_LABELS = {"admin": "管理员", "reviewer": "审核员", "enterprise": "企业",
               "organizer": "活动组织者"}


def allowed(role: str, action: str) -> bool:
    """Whether ``role`` may perform ``action`` (unknown actions: nobody)."""
    return role in TABLE.get(action, frozenset())


def require(action: str) -> Callable[..., User]:
    """A FastAPI dependency: the current user, 403 unless the table allows ``action``.

    Args:
        action: a key of :data:`TABLE`.

    Returns:
        The dependency (it returns the user).
    """
    if action not in TABLE:
        raise KeyError(f"unknown action {action!r}")

    def dependency(user: User = Depends(current_user)) -> User:
        if not allowed(user.role, action):
            label = ROLE_LABELS.get(user.role, user.role)
            raise HTTPException(403, f"权限不足：{label}账号不能执行此操作（{action}）")
        return user

    return dependency


def may_export_contacts(role: str, action: str) -> bool:
    """Whether exports made by ``role`` under ``action`` may carry contact fields."""
    return role in CONTACT_EXPORT_ROLES.get(action, frozenset())
