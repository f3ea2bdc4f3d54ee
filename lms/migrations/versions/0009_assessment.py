"""assessment

Revision ID: 0009_assessment
Revises: 0001_people
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db  # noqa: F401


revision = '0009_assessment'
down_revision = '0001_people'
branch_labels = ('assessment',)
depends_on = None


def upgrade() -> None:
    op.create_table('assessment_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.Enum('self', 'supervisor', '360', 'centre', name='roundkind', native_enum=False, length=20), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('competencies', sa.JSON(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['employee_id'], ['user.id'], name=op.f('fk_assessment_round_employee_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user.id'], name=op.f('fk_assessment_round_opened_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_round')),
    sa.UniqueConstraint('uuid', name=op.f('uq_assessment_round_uuid'))
    )
    with op.batch_alter_table('assessment_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_round_employee_id'), ['employee_id'], unique=False)

    op.create_table('assessment_rater',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('rater_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.Enum('self', 'supervisor', 'peer', 'subordinate', 'centre', name='raterrole', native_enum=False, length=20), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('statement_ids', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('submitted_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['rater_id'], ['user.id'], name=op.f('fk_assessment_rater_rater_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['assessment_round.id'], name=op.f('fk_assessment_rater_round_id_assessment_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_rater')),
    sa.UniqueConstraint('round_id', 'rater_id', 'role', name=op.f('uq_assessment_rater_round_id_rater_id_role'))
    )
    with op.batch_alter_table('assessment_rater', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_rater_rater_id'), ['rater_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_rater_round_id'), ['round_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('assessment_rater', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_rater_round_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_rater_rater_id'))

    op.drop_table('assessment_rater')
    with op.batch_alter_table('assessment_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_round_employee_id'))

    op.drop_table('assessment_round')
# url sqlite:////tmp/tmpq39320fv/a.db ['assessment_round', 'assessment_rater']
