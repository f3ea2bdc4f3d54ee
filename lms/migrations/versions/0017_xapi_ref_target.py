"""xapi: index statements by the statement they refer to (StatementRef objects).

The profile engine asks, for each voided statement it meets, which statement voided it;
without an index on ``ref_id`` that scans every voiding statement. Partial, like the
other StatementRef index: most statements refer to none.

Revision ID: 0017_xapi_ref_target
Revises: 0002_xapi
Create Date: 2026-11-23 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_xapi_ref_target"
down_revision = "0002_xapi"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("xapi_statement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_xapi_statement_ref_id",
            ["ref_id", "seq"],
            unique=False,
            postgresql_where=sa.text("ref_id IS NOT NULL"),
            sqlite_where=sa.text("ref_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("xapi_statement", schema=None) as batch_op:
        batch_op.drop_index("ix_xapi_statement_ref_id")
