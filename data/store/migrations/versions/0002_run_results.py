"""Runs keep their result summary (partial flag, messages, alternates, counts).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``runs.result`` (JSON) and ``runs.partial``; existing runs get empty results."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("result", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("partial", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    """Drop the columns again."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("partial")
        batch.drop_column("result")
