"""forwarding passwords encrypted at rest

Revision ID: 0016_forwarding_secrets
Revises: 0007_forwarding
Create Date: 2026-11-23 22:20:00.000000

The passwords of forwarding targets and pull sources move from ``password`` (plain) to
``password_token`` (Fernet, see lms.forwarding.secrets). The key comes from the app the
migration runs in (``lms init``), so existing rows are encrypted here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0016_forwarding_secrets'
down_revision = '0007_forwarding'
branch_labels = None
depends_on = None

TABLES = ('forwarding_target', 'forwarding_source')


def _app():
    from flask import current_app

    try:
        return current_app._get_current_object()
    except RuntimeError:
        raise RuntimeError("this migration encrypts stored passwords with the app's key: "
                           "run it through `lms init`") from None


def upgrade() -> None:
    from lms.forwarding.secrets import encrypt

    bind = op.get_bind()
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('password_token', sa.Text(), nullable=True))
        t = sa.table(table, sa.column('id', sa.Integer), sa.column('password', sa.String),
                     sa.column('password_token', sa.Text))
        rows = bind.execute(sa.select(t.c.id, t.c.password)).all()
        if rows:
            app = _app()
            for row_id, password in rows:
                bind.execute(t.update().where(t.c.id == row_id)
                             .values(password_token=encrypt(password or "", app)))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('password_token', existing_type=sa.Text(), nullable=False)
            batch_op.drop_column('password')


def downgrade() -> None:
    from lms.forwarding.secrets import decrypt

    bind = op.get_bind()
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('password', sa.String(length=500), nullable=True))
        t = sa.table(table, sa.column('id', sa.Integer), sa.column('password', sa.String),
                     sa.column('password_token', sa.Text))
        rows = bind.execute(sa.select(t.c.id, t.c.password_token)).all()
        if rows:
            app = _app()
            for row_id, token in rows:
                bind.execute(t.update().where(t.c.id == row_id)
                             .values(password=decrypt(token, app)))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('password', existing_type=sa.String(length=500),
                                  nullable=False)
            batch_op.drop_column('password_token')
