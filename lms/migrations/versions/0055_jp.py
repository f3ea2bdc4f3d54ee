"""jp: learning submitted for JP and its verification steps, the JP conversion table,
records sent to SIASN.

Revision ID: 0055_jp
Revises: 0001_people
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0055_jp"
down_revision = "0001_people"
branch_labels = ("jp",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jp_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=300), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("jp_claimed", sa.Float(), nullable=True),
        sa.Column("jp", sa.Float(), nullable=False),
        sa.Column("conversion", sa.String(length=300), nullable=False),
        sa.Column("certificate_number", sa.String(length=100), nullable=True),
        sa.Column("certificate_url", sa.String(length=1000), nullable=True),
        sa.Column("certificate_file", sa.String(length=200), nullable=True),
        sa.Column("competencies", sa.JSON(), nullable=False),
        sa.Column("event_key", sa.String(length=400), nullable=False),
        sa.Column("status", sa.Enum("submitted", "confirmed", "verified", "returned", "voided",
                                    name="submissionstatus", native_enum=False, length=20),
                  nullable=False),
        sa.Column("return_reason", sa.Text(), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("statement_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"],
                                name=op.f("fk_jp_submission_user_id_user"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["confirmed_by_id"], ["user.id"],
                                name=op.f("fk_jp_submission_confirmed_by_id_user"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"],
                                name=op.f("fk_jp_submission_decided_by_id_user"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jp_submission")),
        sa.UniqueConstraint("statement_id", name=op.f("uq_jp_submission_statement_id")),
    )
    with op.batch_alter_table("jp_submission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jp_submission_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_jp_submission_certificate_number"),
                              ["certificate_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_jp_submission_event_key"), ["event_key"],
                              unique=False)
        batch_op.create_index("ix_jp_submission_status_submitted", ["status", "submitted_at"],
                              unique=False)
    op.create_table(
        "jp_submission_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["jp_submission.id"],
                                name=op.f("fk_jp_submission_step_submission_id_jp_submission"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["by_id"], ["user.id"],
                                name=op.f("fk_jp_submission_step_by_id_user"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jp_submission_step")),
    )
    with op.batch_alter_table("jp_submission_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jp_submission_step_submission_id"),
                              ["submission_id"], unique=False)
    op.create_table(
        "jp_conversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("factor", sa.Float(), nullable=False),
        sa.Column("jp_per_activity", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"],
                                name=op.f("fk_jp_conversion_created_by_id_user"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jp_conversion")),
        sa.UniqueConstraint("type_id", "effective_from",
                            name=op.f("uq_jp_conversion_type_id_effective_from")),
    )
    op.create_table(
        "jp_siasn_push",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_key", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("siasn_id", sa.String(length=100), nullable=True),
        sa.Column("document_uploaded", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"],
                                name=op.f("fk_jp_siasn_push_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jp_siasn_push")),
        sa.UniqueConstraint("record_key", name=op.f("uq_jp_siasn_push_record_key")),
    )


def downgrade() -> None:
    op.drop_table("jp_siasn_push")
    op.drop_table("jp_conversion")
    with op.batch_alter_table("jp_submission_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jp_submission_step_submission_id"))
    op.drop_table("jp_submission_step")
    with op.batch_alter_table("jp_submission", schema=None) as batch_op:
        batch_op.drop_index("ix_jp_submission_status_submitted")
        batch_op.drop_index(batch_op.f("ix_jp_submission_event_key"))
        batch_op.drop_index(batch_op.f("ix_jp_submission_certificate_number"))
        batch_op.drop_index(batch_op.f("ix_jp_submission_user_id"))
    op.drop_table("jp_submission")
