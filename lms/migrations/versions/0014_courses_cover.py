"""courses: the current version's cover image on the catalog row.

Revision ID: 0014_courses_cover
Revises: 0014_courses_pinning
Create Date: 2026-11-23 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_courses_cover"
down_revision = "0014_courses_pinning"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cover", sa.String(length=300), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("cover_alt", sa.String(length=300), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_column("cover_alt")
        batch_op.drop_column("cover")
