"""authoring: when a cmi5 AU session ended, so later statements for it can be refused.

Revision ID: 0019_authoring_cmi5_ended
Revises: 0014_authoring_cmi5
Create Date: 2026-11-24 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lms.db import UTCDateTime

revision = "0019_authoring_cmi5_ended"
down_revision = "0014_authoring_cmi5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cmi5_launch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cmi5_launch", schema=None) as batch_op:
        batch_op.drop_column("ended_at")
