"""courses: an enrolment follows the course version the learner started.

Existing enrolments are pinned to the version of their completion when they have one
(the certificate names it), and otherwise to the current version: until now the player
served the newest version, so that is the one in-progress learners have been following.

Revision ID: 0014_courses_pinning
Revises: 0003_courses
Create Date: 2026-11-23 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_courses_pinning"
down_revision = "0003_courses"
branch_labels = None
depends_on = None

#: Pins enrolments that have no version yet (tested in tests/courses/test_versions.py).
PIN_EXISTING = (
    "UPDATE enrollment SET course_version = COALESCE("
    " (SELECT completion.course_version FROM completion"
    "   WHERE completion.user_id = enrollment.user_id"
    "     AND completion.course_id = enrollment.course_id),"
    " (SELECT course.version FROM course WHERE course.id = enrollment.course_id))"
    " WHERE course_version IS NULL"
)


def upgrade() -> None:
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("course_version", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("version_changed_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.execute(PIN_EXISTING)


def downgrade() -> None:
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.drop_column("version_changed_at")
        batch_op.drop_column("course_version")
