"""xapi: statements a consumer could not handle, recorded so the consumer goes on.

Revision ID: 0020_xapi_consumer_failures
Revises: 0017_xapi_ref_target
Create Date: 2026-11-25 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lms.db import UTCDateTime

revision = "0020_xapi_consumer_failures"
down_revision = "0017_xapi_ref_target"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "xapi_consumer_failure",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("skipped_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("skipped_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_consumer_failure")),
        sa.UniqueConstraint("consumer", "seq",
                            name=op.f("uq_xapi_consumer_failure_consumer_seq")),
    )
    op.create_index("ix_xapi_consumer_failure_status", "xapi_consumer_failure",
                    ["status", "consumer"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_xapi_consumer_failure_status", table_name="xapi_consumer_failure")
    op.drop_table("xapi_consumer_failure")
