"""training evaluation: questionnaires (levels 1 and 3) and linked results (level 4)

Revision ID: 0011_evaluation
Revises: 0001_people
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = '0011_evaluation'
down_revision = '0001_people'
branch_labels = ('evaluation',)
depends_on = ('0003_courses',)


def upgrade() -> None:
    op.create_table('evaluation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('respondent_id', sa.Integer(), nullable=True),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('training_id', sa.Integer(), nullable=True),
    sa.Column('activity_iri', sa.String(length=500), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('provider', sa.String(length=300), nullable=False),
    sa.Column('completed_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completion_statement_id', sa.String(length=36), nullable=False),
    sa.Column('due_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('answered_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('statement_id', sa.String(length=36), nullable=True),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.Column('last_reminder_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_evaluation_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['respondent_id'], ['user.id'], name=op.f('fk_evaluation_respondent_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_evaluation_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation')),
    sa.UniqueConstraint('level', 'user_id', 'activity_iri', name=op.f('uq_evaluation_level_user_id_activity_iri'))
    )
    op.create_index('ix_evaluation_level_status_due', 'evaluation', ['level', 'status', 'due_at'], unique=False)
    op.create_index(op.f('ix_evaluation_completion_statement_id'), 'evaluation', ['completion_statement_id'], unique=False)
    op.create_index(op.f('ix_evaluation_course_id'), 'evaluation', ['course_id'], unique=False)
    op.create_index(op.f('ix_evaluation_respondent_id'), 'evaluation', ['respondent_id'], unique=False)
    op.create_index(op.f('ix_evaluation_status'), 'evaluation', ['status'], unique=False)
    op.create_index(op.f('ix_evaluation_training_id'), 'evaluation', ['training_id'], unique=False)
    op.create_index(op.f('ix_evaluation_user_id'), 'evaluation', ['user_id'], unique=False)
    op.create_table('evaluation_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('training_id', sa.Integer(), nullable=True),
    sa.Column('indicator', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=50), nullable=False),
    sa.Column('baseline', sa.Float(), nullable=True),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('measured_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_evaluation_result_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_evaluation_result_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_evaluation_result_org_unit_id_org_unit'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_result'))
    )
    op.create_index(op.f('ix_evaluation_result_course_id'), 'evaluation_result', ['course_id'], unique=False)
    op.create_index(op.f('ix_evaluation_result_org_unit_id'), 'evaluation_result', ['org_unit_id'], unique=False)
    op.create_index(op.f('ix_evaluation_result_training_id'), 'evaluation_result', ['training_id'], unique=False)


def downgrade() -> None:
    op.drop_table('evaluation_result')
    op.drop_table('evaluation')
