"""read_stamp: the version of each read-mostly cache's data (lms.readcache).

Revision ID: 0065_read_stamps
Revises: 0001_people
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0065_read_stamps"
down_revision = "0001_people"
branch_labels = ("read_stamps",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "read_stamp",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_read_stamp")),
    )


def downgrade() -> None:
    op.drop_table("read_stamp")
