"""The ranked candidate edges of a pairing run (issue #13, item 9): per need, the top-k
talents the run ranked, with their scores and explanations, and the digest of what that
ranking depended on, so that an event shortlist reuses them instead of ranking again.

Revision ID: 0009_run_edges
Revises: 0008_review
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_run_edges"
down_revision: str | Sequence[str] | None = "0008_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``run_edges``."""
    op.create_table(
        "run_edges",
        sa.Column("run_id", sa.String(64).with_variant(sa.String(64, collation="C"),
                                                       "postgresql"), nullable=False),
        sa.Column("need_id", sa.String(64).with_variant(sa.String(64, collation="C"),
                                                        "postgresql"), nullable=False),
        sa.Column("basis", sa.String(64), nullable=False),
        sa.Column("edges", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "need_id", name="pk_run_edges"),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("run_edges")
