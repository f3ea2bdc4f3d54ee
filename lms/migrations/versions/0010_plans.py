"""plans

Revision ID: 0010_plans
Revises: 0001_people
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db  # noqa: F401


revision = '0010_plans'
down_revision = '0001_people'
branch_labels = ('plans',)
depends_on = ('0004_competency',)


def upgrade() -> None:
    op.create_table('development_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'returned', 'approved', 'in_progress', 'done', name='planstatus', native_enum=False, length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_development_plan_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_development_plan_decided_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['employee_id'], ['user.id'], name=op.f('fk_development_plan_employee_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_development_plan')),
    sa.UniqueConstraint('employee_id', 'year', name=op.f('uq_development_plan_employee_id_year'))
    )
    with op.batch_alter_table('development_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_development_plan_employee_id'), ['employee_id'], unique=False)

    op.create_table('development_plan_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('competency_id', sa.Integer(), nullable=True),
    sa.Column('target_level', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('provider', sa.String(length=300), nullable=False),
    sa.Column('activity_iri', sa.String(length=2048), nullable=False),
    sa.Column('course_slug', sa.String(length=200), nullable=True),
    sa.Column('jp', sa.Float(), nullable=False),
    sa.Column('cost_per_jp', sa.Float(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('done_statement_id', sa.String(length=36), nullable=True),
    sa.Column('done_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['competency_id'], ['competency.id'], name=op.f('fk_development_plan_item_competency_id_competency'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['development_plan.id'], name=op.f('fk_development_plan_item_plan_id_development_plan'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_development_plan_item'))
    )
    with op.batch_alter_table('development_plan_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_development_plan_item_activity_iri'), ['activity_iri'], unique=False)
        batch_op.create_index(batch_op.f('ix_development_plan_item_done_statement_id'), ['done_statement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_development_plan_item_plan_id'), ['plan_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('development_plan_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_development_plan_item_plan_id'))
        batch_op.drop_index(batch_op.f('ix_development_plan_item_done_statement_id'))
        batch_op.drop_index(batch_op.f('ix_development_plan_item_activity_iri'))

    op.drop_table('development_plan_item')
    with op.batch_alter_table('development_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_development_plan_employee_id'))

    op.drop_table('development_plan')
# url sqlite:////tmp/tmp3o3v35ej/a.db ['assessment_round', 'assessment_rater']
