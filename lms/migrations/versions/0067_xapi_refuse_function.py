"""xapi: ``lms_xapi_refuse(message)``, which raises SQLSTATE LX409 (PostgreSQL).

The LRS stores a request that only writes statements as one SQL statement committed on
its own (:func:`lms.xapi.store.write.write_alone`): one round trip instead of BEGIN, the
statement and COMMIT. Committed on its own, the statement must store the whole request or
nothing; when any of its statement ids is stored already it calls this function, which
aborts it, and the request is stored again in a transaction that compares the re-sent
statements (Part Three §2.1.2). An error is the only way to abort a statement from SQL,
and PostgreSQL has no built-in function that raises one.

SQLite has no stored functions and does not need one: its ingest runs in a transaction.

Revision ID: 0067_xapi_refuse_function
Revises: 0066_xapi_no_statement_id_index
Create Date: 2026-12-06 09:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0067_xapi_refuse_function"
down_revision = "0066_xapi_no_statement_id_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE OR REPLACE FUNCTION lms_xapi_refuse(message text) RETURNS bigint
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            RAISE EXCEPTION USING ERRCODE = 'LX409', MESSAGE = message;
        END
        $$
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS lms_xapi_refuse(text)")
