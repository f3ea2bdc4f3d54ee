"""assessment: questionnaire drafts per competency, and HR validation of supervisor ratings.

Revision ID: 0020_assessment_drafts
Revises: 0009_assessment
Create Date: 2026-12-05 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lms.db import UTCDateTime

revision = "0020_assessment_drafts"
down_revision = "0009_assessment"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessment_rater", schema=None) as batch_op:
        batch_op.add_column(sa.Column("validation", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("held_codes", sa.JSON(), nullable=False,
                                      server_default="[]"))
        batch_op.add_column(sa.Column("validated_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("validated_at", UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("validation_note", sa.Text(), nullable=False,
                                      server_default=""))
        batch_op.create_foreign_key(batch_op.f("fk_assessment_rater_validated_by_id_user"),
                                    "user", ["validated_by_id"], ["id"], ondelete="SET NULL")
    op.create_table(
        "assessment_draft",
        sa.Column("rater_entry_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("saved_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["rater_entry_id"], ["assessment_rater.id"],
                                name=op.f("fk_assessment_draft_rater_entry_id_assessment_rater"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("rater_entry_id", "code", name=op.f("pk_assessment_draft")),
    )


def downgrade() -> None:
    op.drop_table("assessment_draft")
    with op.batch_alter_table("assessment_rater", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_assessment_rater_validated_by_id_user"),
                                 type_="foreignkey")
        batch_op.drop_column("validation_note")
        batch_op.drop_column("validated_at")
        batch_op.drop_column("validated_by_id")
        batch_op.drop_column("held_codes")
        batch_op.drop_column("validation")
