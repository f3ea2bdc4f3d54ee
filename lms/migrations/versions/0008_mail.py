"""e-mail outbox

Revision ID: 0008_mail
Revises: 0001_people
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = '0008_mail'
down_revision = '0001_people'
branch_labels = ('mail',)
depends_on = None


def upgrade() -> None:
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=True),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_until', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_mail_outbox_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox'))
    )
    op.create_index('ix_mail_outbox_status_next', 'mail_outbox', ['status', 'next_attempt'], unique=False)
    op.create_index(op.f('ix_mail_outbox_category'), 'mail_outbox', ['category'], unique=False)
    op.create_index(op.f('ix_mail_outbox_user_id'), 'mail_outbox', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_mail_outbox_user_id'), table_name='mail_outbox')
    op.drop_index(op.f('ix_mail_outbox_category'), table_name='mail_outbox')
    op.drop_index('ix_mail_outbox_status_next', table_name='mail_outbox')
    op.drop_table('mail_outbox')
