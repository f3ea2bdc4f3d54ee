"""reports: recorded trainings can be edited and voided, with a history of changes.

Revision ID: 0015_reports_training_changes
Revises: 0015_reports_summary
Create Date: 2026-11-23 22:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0015_reports_training_changes"
down_revision = "0015_reports_summary"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("training", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", lms.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("voided_at", lms.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("voided_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_training_voided_by_id_user"), "user",
                                    ["voided_by_id"], ["id"], ondelete="SET NULL")
    op.create_table(
        "training_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_name", sa.String(length=200), nullable=False),
        sa.Column("at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Enum("created", "edited", "participants_added",
                                  "participant_removed", "voided", name="trainingchangekind",
                                  native_enum=False, length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["training_id"], ["training.id"],
                                name=op.f("fk_training_change_training_id_training"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"],
                                name=op.f("fk_training_change_user_id_user"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_change")),
    )
    with op.batch_alter_table("training_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_change_training_id"), ["training_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_change_training_id"))
    op.drop_table("training_change")
    with op.batch_alter_table("training", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_training_voided_by_id_user"),
                                 type_="foreignkey")
        batch_op.drop_column("voided_by_id")
        batch_op.drop_column("voided_at")
        batch_op.drop_column("updated_at")
