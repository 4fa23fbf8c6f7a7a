"""City scope of service accounts (issue #14, item 3: several cities on one installation).

``users.city``: the programme city whose data the account sees (``平顶山``, ``南阳`` …), or
NULL for an unscoped account (a province administrator, and every account made before this
revision, which therefore keeps seeing everything it saw).

Revision ID: 0010_user_city
Revises: 0009_run_edges
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_user_city"
down_revision: str | Sequence[str] | None = "0009_run_edges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable ``users.city`` column (existing accounts: unscoped)."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("city", sa.String(32), nullable=True))


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("city")
