"""The store's tables (SQLAlchemy Core). The migrations in ``migrations/versions`` create
exactly these; ``tests/test_store.py`` checks that the two agree.

* ``records`` — the five importable entities in one table, keyed by (entity, id). ``data``
  holds the public record as JSON (never contact data); the other columns are summaries for
  filtering and counting. ``content_hash`` detects unchanged re-imports. ``search_text`` and
  ``search_masked`` are the text a keyword search looks at, as staff and as an enterprise see
  the record (:mod:`data.visibility`), so search counts in SQL and never over hidden fields.
* ``contacts`` — private contact data, apart from the public data, deleted with its record.
* ``suggestions``, ``decisions`` (append-only audit with from/to status), ``runs``,
  ``events``.
* ``run_edges`` — per need, the top-k ranked candidates of a pairing run (talent, score,
  explanation, as JSON) and ``basis``, the digest of the need and enterprise they were ranked
  for; an event shortlist reuses them while nothing they depend on changed.
* ``imports`` — one row per file import: file hash, counts, status (running, complete,
  failed, resumed); an import killed half-way stays ``running``.
* ``users`` and ``api_tokens`` (hashes only) — the service's accounts. ``session_epoch``
  revokes sessions (bumped on logout, disable, password change); tokens expire and can be
  revoked. ``city`` scopes an account to one programme city (NULL: unscoped, sees every
  city).
* ``jobs`` — background jobs of the service (kind, status, progress, result reference).
  ``active_kind`` equals ``kind`` while the job is queued or running and is NULL after; its
  unique constraint lets one job of a kind be active at a time, even across processes.
"""

from __future__ import annotations

import sqlalchemy as sa

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def id_type() -> sa.types.TypeEngine[str]:
    """Stable external ids: byte-order collation on PostgreSQL so ``ORDER BY id`` agrees
    with SQLite (and with Python's ``sorted``) whatever the database locale."""
    return sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")


def timestamp() -> sa.DateTime:
    """Timezone-aware timestamps (SQLite stores them as text without the zone)."""
    return sa.DateTime(timezone=True)


metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

records = sa.Table(
    "records",
    metadata,
    sa.Column("entity", sa.String(16), primary_key=True),
    sa.Column("id", id_type(), primary_key=True),
    sa.Column("city", sa.String(), nullable=True),
    sa.Column("kind", sa.String(32), nullable=True),
    sa.Column("chain", sa.String(), nullable=True),
    sa.Column("county", sa.String(), nullable=True),
    sa.Column("category", sa.String(), nullable=True),
    sa.Column("status", sa.String(32), nullable=True),
    sa.Column("enterprise_id", sa.String(64), nullable=True),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("search_text", sa.Text(), nullable=True),
    sa.Column("search_masked", sa.Text(), nullable=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("created_at", timestamp(), nullable=False),
    sa.Column("updated_at", timestamp(), nullable=False),
    sa.Index(None, "entity", "updated_at"),
    sa.Index(None, "entity", "city"),
    sa.Index(None, "entity", "enterprise_id"),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("entity", sa.String(16), primary_key=True),
    sa.Column("id", id_type(), primary_key=True),
    sa.Column("phone", sa.String(32), nullable=True),
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("wechat", sa.String(64), nullable=True),
    sa.Column("updated_at", timestamp(), nullable=False),
    sa.ForeignKeyConstraint(
        ["entity", "id"], ["records.entity", "records.id"], ondelete="CASCADE"
    ),
)

suggestions = sa.Table(
    "suggestions",
    metadata,
    sa.Column("id", id_type(), primary_key=True),
    sa.Column("need_id", id_type(), nullable=False, index=True),
    sa.Column("talent_id", id_type(), nullable=False, index=True),
    sa.Column("score", sa.Float(), nullable=False),
    sa.Column("features", sa.JSON(), nullable=False),
    sa.Column("explanation", sa.Text(), nullable=False),
    sa.Column("rank", sa.Integer(), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True, index=True),
    sa.Column("work_group", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("created_at", timestamp(), nullable=False),
    sa.Column("updated_at", timestamp(), nullable=False),
    sa.Column("contributions", sa.JSON(), nullable=True),
    sa.Column("flags", sa.JSON(), nullable=True),
    sa.Column("fused", sa.Float(), nullable=True),
    sa.Index(None, "work_group", "status"),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", id_type(), primary_key=True),
    sa.Column("suggestion_id", id_type(), nullable=False, index=True),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("at", timestamp(), nullable=False),
    sa.Column("from_status", sa.String(16), nullable=True),
    sa.Column("to_status", sa.String(16), nullable=True),
    sa.ForeignKeyConstraint(["suggestion_id"], ["suggestions.id"], ondelete="RESTRICT"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", id_type(), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("started_by", sa.String(64), nullable=True),
    sa.Column("params", sa.JSON(), nullable=False),
    sa.Column("solver", sa.String(64), nullable=True),
    sa.Column("objective", sa.Float(), nullable=True),
    sa.Column("duration_s", sa.Float(), nullable=True),
    sa.Column("created_at", timestamp(), nullable=False),
    sa.Column("result", sa.JSON(), nullable=True),
    sa.Column("partial", sa.Boolean(), nullable=False, server_default=sa.false()),
)

run_edges = sa.Table(
    "run_edges",
    metadata,
    sa.Column("run_id", id_type(), primary_key=True),
    sa.Column("need_id", id_type(), primary_key=True),
    sa.Column("basis", sa.String(64), nullable=False),
    sa.Column("edges", sa.JSON(), nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", id_type(), primary_key=True),
    sa.Column("data", sa.JSON(), nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", id_type(), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("work_group", sa.String(32), nullable=True),
    sa.Column("enterprise_id", id_type(), nullable=True),
    sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("created_at", timestamp(), nullable=False),
    sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("city", sa.String(32), nullable=True),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", id_type(), nullable=False, index=True),
    sa.Column("created_at", timestamp(), nullable=False),
    sa.Column("expires_at", timestamp(), nullable=True),
    sa.Column("revoked_at", timestamp(), nullable=True),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
)

imports = sa.Table(
    "imports",
    metadata,
    sa.Column("id", id_type(), primary_key=True),
    sa.Column("entity", sa.String(16), nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("file_hash", sa.String(64), nullable=False),
    sa.Column("file_size", sa.BigInteger(), nullable=False),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_by", sa.String(64), nullable=True),
    sa.Column("rows", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("inserted", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("unchanged", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("rejected", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_row", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("message", sa.Text(), nullable=True),
    sa.Column("resumed_by", id_type(), nullable=True),
    sa.Column("started_at", timestamp(), nullable=False),
    sa.Column("updated_at", timestamp(), nullable=False),
    sa.Column("finished_at", timestamp(), nullable=True),
    sa.Index(None, "entity", "file_hash"),
    sa.Index(None, "status"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", id_type(), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("active_kind", sa.String(32), nullable=True, unique=True),
    sa.Column("progress", sa.Float(), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("params", sa.JSON(), nullable=False),
    sa.Column("result", sa.JSON(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("started_by", sa.String(64), nullable=True),
    sa.Column("worker", sa.String(128), nullable=True),
    sa.Column("created_at", timestamp(), nullable=False),
    sa.Column("started_at", timestamp(), nullable=True),
    sa.Column("finished_at", timestamp(), nullable=True),
    sa.Index(None, "kind", "created_at"),
)
