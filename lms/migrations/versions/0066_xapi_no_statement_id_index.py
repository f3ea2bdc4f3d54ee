"""xapi: drop the plain index on xapi_statement.statement_id.

Since ``0060_xapi_partitions`` every statement id is kept unique by ``xapi_statement_id``
(statement_id primary key, seq, stored), and every lookup by id goes through it
(:func:`lms.xapi.models.by_statement_id`): it finds the one partition to read by
(seq, stored). The plain index on the statement table was a second random-UUID b-tree
written on every ingest and read by nobody; on PostgreSQL dropping it from the
partitioned table drops it from every partition.

Revision ID: 0066_xapi_no_statement_id_index
Revises: 0060_xapi_partitions
Create Date: 2026-12-06 02:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0066_xapi_no_statement_id_index"
down_revision = "0060_xapi_partitions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_xapi_statement_statement_id", table_name="xapi_statement")


def downgrade() -> None:
    op.create_index("ix_xapi_statement_statement_id", "xapi_statement", ["statement_id"],
                    unique=False)
