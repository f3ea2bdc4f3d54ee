"""quizzes: answers saved while an attempt is open (restored on reload, graded at the
time limit).

Revision ID: 0020_quizzes_saved
Revises: 0001_people
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lms.db import UTCDateTime

revision = "0020_quizzes_saved"
down_revision = "0001_people"
branch_labels = ("quizzes",)
depends_on = ("0003_courses",)


def upgrade() -> None:
    op.create_table(
        "quiz_saved_answer",
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("rev", sa.BigInteger(), nullable=False),
        sa.Column("saved_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["quiz_attempt.id"],
                                name=op.f("fk_quiz_saved_answer_attempt_id_quiz_attempt"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("attempt_id", "question_id", name=op.f("pk_quiz_saved_answer")),
    )


def downgrade() -> None:
    op.drop_table("quiz_saved_answer")
