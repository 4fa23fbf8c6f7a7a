"""What a pairing run knew of each suggestion (issue #13): the feature contributions the
bars show, the soft-rule flags, and the fused score before penalties and calibration, so
that the review page reads what the run stored instead of ranking the need again.

Existing suggestions keep NULL (the page then shows the stored features).

Revision ID: 0008_review
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_review"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the three nullable columns."""
    with op.batch_alter_table("suggestions") as batch:
        batch.add_column(sa.Column("contributions", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("flags", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("fused", sa.Float(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("suggestions") as batch:
        batch.drop_column("fused")
        batch.drop_column("flags")
        batch.drop_column("contributions")
