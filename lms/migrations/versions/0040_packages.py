"""packages: SCORM 1.2 / 2004 packages, their launchable items, launches and outcomes

Revision ID: 0040_packages
Revises: 0001_people
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0040_packages"
down_revision = "0001_people"
branch_labels = ("packages",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scorm_package",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("folder", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=8), nullable=False),
        sa.Column("edition", sa.String(length=8), nullable=False),
        sa.Column("manifest_id", sa.String(length=200), nullable=False),
        sa.Column("structure", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"],
                                name=op.f("fk_scorm_package_created_by_id_user"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorm_package")),
        sa.UniqueConstraint("folder", name=op.f("uq_scorm_package_folder")),
    )
    op.create_index(op.f("ix_scorm_package_slug"), "scorm_package", ["slug"], unique=False)
    op.create_table(
        "scorm_sco",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("sco_iri", sa.String(length=600), nullable=False),
        sa.ForeignKeyConstraint(["package_id"], ["scorm_package.id"],
                                name=op.f("fk_scorm_sco_package_id_scorm_package"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorm_sco")),
    )
    op.create_index(op.f("ix_scorm_sco_package_id"), "scorm_sco", ["package_id"], unique=False)
    op.create_index(op.f("ix_scorm_sco_sco_iri"), "scorm_sco", ["sco_iri"], unique=False)
    op.create_table(
        "scorm_launch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sco_id", sa.Integer(), nullable=False),
        sa.Column("registration", sa.String(length=36), nullable=False),
        sa.Column("attempt_iri", sa.String(length=700), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("initial", sa.JSON(), nullable=False),
        sa.Column("launched_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sco_id"], ["scorm_sco.id"],
                                name=op.f("fk_scorm_launch_sco_id_scorm_sco"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"],
                                name=op.f("fk_scorm_launch_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorm_launch")),
        sa.UniqueConstraint("session_id", name=op.f("uq_scorm_launch_session_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_scorm_launch_token_hash")),
    )
    op.create_index(op.f("ix_scorm_launch_registration"), "scorm_launch", ["registration"],
                    unique=False)
    op.create_index(op.f("ix_scorm_launch_user_id"), "scorm_launch", ["user_id"], unique=False)
    op.create_table(
        "scorm_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration", sa.String(length=36), nullable=False),
        sa.Column("sco_id", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["sco_id"], ["scorm_sco.id"],
                                name=op.f("fk_scorm_status_sco_id_scorm_sco"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorm_status")),
        sa.UniqueConstraint("registration", "sco_id",
                            name=op.f("uq_scorm_status_registration_sco_id")),
    )


def downgrade() -> None:
    op.drop_table("scorm_status")
    op.drop_index(op.f("ix_scorm_launch_user_id"), table_name="scorm_launch")
    op.drop_index(op.f("ix_scorm_launch_registration"), table_name="scorm_launch")
    op.drop_table("scorm_launch")
    op.drop_index(op.f("ix_scorm_sco_sco_iri"), table_name="scorm_sco")
    op.drop_index(op.f("ix_scorm_sco_package_id"), table_name="scorm_sco")
    op.drop_table("scorm_sco")
    op.drop_index(op.f("ix_scorm_package_slug"), table_name="scorm_package")
    op.drop_table("scorm_package")
