"""The store (SQLAlchemy 2 + Alembic): a SQLite file by default, PostgreSQL by URL.

>>> store = Store.open("sqlite:///var/talentmatch.db")   # migrates to head
>>> store.upsert("talents", talents).counts
{'inserted': 3, 'updated': 0, 'unchanged': 0}
"""

from data.store.errors import (
    ActiveJobExists,
    ConstraintError,
    DuplicateIdError,
    NotFoundError,
    StoreError,
    VersionConflict,
)
from data.store.repository import UpsertResult
from data.store.rows import ENTITIES
from data.store.store import Store

__all__ = [
    "ENTITIES",
    "ActiveJobExists",
    "ConstraintError",
    "DuplicateIdError",
    "NotFoundError",
    "Store",
    "StoreError",
    "UpsertResult",
    "VersionConflict",
]
