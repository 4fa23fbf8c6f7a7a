"""Search text per view and the owner column on ``records`` (issue #11).

``search_text`` (the values of the public record, as staff see it), ``search_masked`` (a
talent as an enterprise sees it: no employer, relatives or 回避 entries) and
``enterprise_id`` (the owner of a need, challenge or project), so that a keyword search
filters and counts in SQL over only what the caller may see. Existing rows are filled in.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from data.visibility import search_columns

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    """Add the columns and the owner index, then fill them from each stored record."""
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("enterprise_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("search_masked", sa.Text(), nullable=True))
    op.create_index(op.f("ix_records_entity_enterprise_id"), "records",
                    ["entity", "enterprise_id"])
    records = sa.table("records", sa.column("entity", sa.String()), sa.column("id", sa.String()),
                       sa.column("data", sa.JSON()), sa.column("enterprise_id", sa.String()),
                       sa.column("search_text", sa.Text()),
                       sa.column("search_masked", sa.Text()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(records.c.entity, records.c.id, records.c.data)).fetchall()
    update = (sa.update(records)
              .where(records.c.entity == sa.bindparam("b_entity"),
                     records.c.id == sa.bindparam("b_id"))
              .values(enterprise_id=sa.bindparam("enterprise_id"),
                      search_text=sa.bindparam("search_text"),
                      search_masked=sa.bindparam("search_masked")))
    for start in range(0, len(rows), BATCH):
        params = [{"b_entity": r.entity, "b_id": r.id, **search_columns(r.entity, r.data)}
                  for r in rows[start:start + BATCH]]
        conn.execute(update, params)


def downgrade() -> None:
    """Drop the columns and the index."""
    op.drop_index(op.f("ix_records_entity_enterprise_id"), table_name="records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("search_masked")
        batch.drop_column("search_text")
        batch.drop_column("enterprise_id")
