"""authoring: cmi5 launch modes and how each AU session ended (terminated or abandoned).

Revision ID: 0014_authoring_cmi5
Revises: 0005_authoring
Create Date: 2026-11-23 22:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_authoring_cmi5"
down_revision = "0005_authoring"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cmi5_launch", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("launch_mode", sa.String(length=10), server_default="Normal",
                      nullable=False)
        )
        batch_op.add_column(sa.Column("ended", sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cmi5_launch", schema=None) as batch_op:
        batch_op.drop_column("ended")
        batch_op.drop_column("launch_mode")
