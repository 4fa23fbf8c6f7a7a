"""Initial schema: records, contacts, suggestions, decisions, runs, events.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[str]:
    """Ids: byte-order ("C") collation on PostgreSQL."""
    return sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the initial tables."""
    op.create_table(
        "records",
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("id", _id(), nullable=False),
        sa.Column("city", sa.String(), nullable=True),
        sa.Column("kind", sa.String(32), nullable=True),
        sa.Column("chain", sa.String(), nullable=True),
        sa.Column("county", sa.String(), nullable=True),
        sa.Column("category", sa.String(), nullable=True),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("entity", "id", name="pk_records"),
    )
    op.create_index("ix_records_entity_updated_at", "records", ["entity", "updated_at"])
    op.create_index("ix_records_entity_city", "records", ["entity", "city"])
    op.create_table(
        "contacts",
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("id", _id(), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("wechat", sa.String(64), nullable=True),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("entity", "id", name="pk_contacts"),
        sa.ForeignKeyConstraint(
            ["entity", "id"],
            ["records.entity", "records.id"],
            name="fk_contacts_entity_id_records",
            ondelete="CASCADE",
        ),
    )
    _create_review_tables()
    _create_run_tables()


def _create_review_tables() -> None:
    """Suggestions and the append-only decisions."""
    op.create_table(
        "suggestions",
        sa.Column("id", _id(), nullable=False),
        sa.Column("need_id", _id(), nullable=False),
        sa.Column("talent_id", _id(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("work_group", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_suggestions"),
    )
    op.create_index("ix_suggestions_need_id", "suggestions", ["need_id"])
    op.create_index("ix_suggestions_talent_id", "suggestions", ["talent_id"])
    op.create_index("ix_suggestions_run_id", "suggestions", ["run_id"])
    op.create_index("ix_suggestions_work_group_status", "suggestions", ["work_group", "status"])
    op.create_table(
        "decisions",
        sa.Column("id", _id(), nullable=False),
        sa.Column("suggestion_id", _id(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["suggestions.id"],
            name="fk_decisions_suggestion_id_suggestions",
            ondelete="RESTRICT",
        ),
    )
    op.create_index("ix_decisions_suggestion_id", "decisions", ["suggestion_id"])


def _create_run_tables() -> None:
    """Matching/pairing runs and matchmaking events."""
    op.create_table(
        "runs",
        sa.Column("id", _id(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("started_by", sa.String(64), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("solver", sa.String(64), nullable=True),
        sa.Column("objective", sa.Float(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_table(
        "events",
        sa.Column("id", _id(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )


def downgrade() -> None:
    """Drop every table of the initial schema."""
    for name in ("events", "runs", "decisions", "suggestions", "contacts", "records"):
        op.drop_table(name)
