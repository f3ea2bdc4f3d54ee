"""credentials: status-list index per issued badge

Revision ID: 0013_credentials
Revises: 0001_people
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = '0013_credentials'
down_revision = '0001_people'
branch_labels = ('credentials',)
depends_on = None


def upgrade() -> None:
    op.create_table('credential_status',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_number', sa.String(length=40), nullable=False),
    sa.Column('issued_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credential_status')),
    sa.UniqueConstraint('certificate_number', name=op.f('uq_credential_status_certificate_number'))
    )


def downgrade() -> None:
    op.drop_table('credential_status')
