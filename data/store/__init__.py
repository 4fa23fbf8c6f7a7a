"""The store (SQLAlchemy 2 + Alembic): a SQLite file by default, PostgreSQL by URL.

>>> store = Store.open("sqlite:///var/talentmatch.db")   # migrates to head
>>> store.upsert("talents", talents).counts
{'inserted': 3, 'updated': 0, 'unchanged': 0}

The store is split by concern (:class:`RecordStore`, :class:`ReviewStore`,
:class:`AccountStore`, :class:`EventStore`, :class:`JobStore`); :class:`Store` composes them.
"""

from data.store.account_store import AccountStore
from data.store.errors import (
    ActiveJobExists,
    ConstraintError,
    DuplicateIdError,
    NotFoundError,
    StoreError,
    VersionConflict,
)
from data.store.event_store import EventStore
from data.store.job_store import JobStore
from data.store.record_store import RecordStore
from data.store.repository import UpsertResult
from data.store.review_store import ReviewStore
from data.store.rows import ENTITIES
from data.store.store import Store

__all__ = [
    "ENTITIES",
    "AccountStore",
    "ActiveJobExists",
    "ConstraintError",
    "DuplicateIdError",
    "EventStore",
    "JobStore",
    "NotFoundError",
    "RecordStore",
    "ReviewStore",
    "Store",
    "StoreError",
    "UpsertResult",
    "VersionConflict",
]
