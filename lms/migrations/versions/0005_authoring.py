"""authoring: authored courses, trainers, change log, cmi5 packages and launches

Revision ID: 0005_authoring
Revises: 0001_people
Create Date: 2026-11-23 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_authoring"
down_revision = "0001_people"
branch_labels = ("authoring",)
depends_on = "0003_courses"


def upgrade() -> None:
    op.create_table(
        "authoring_course",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"],
                                name=op.f("fk_authoring_course_created_by_id_user"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authoring_course")),
        sa.UniqueConstraint("slug", name=op.f("uq_authoring_course_slug")),
    )
    op.create_table(
        "authoring_trainer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["authoring_course.id"],
                                name=op.f("fk_authoring_trainer_course_id_authoring_course"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"],
                                name=op.f("fk_authoring_trainer_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authoring_trainer")),
        sa.UniqueConstraint("course_id", "user_id",
                            name=op.f("uq_authoring_trainer_course_id_user_id")),
    )
    with op.batch_alter_table("authoring_trainer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_authoring_trainer_course_id"), ["course_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_authoring_trainer_user_id"), ["user_id"],
                              unique=False)
    op.create_table(
        "authoring_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["course_id"], ["authoring_course.id"],
                                name=op.f("fk_authoring_change_course_id_authoring_course"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"],
                                name=op.f("fk_authoring_change_user_id_user"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authoring_change")),
    )
    with op.batch_alter_table("authoring_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_authoring_change_course_id"), ["course_id"],
                              unique=False)
    op.create_table(
        "cmi5_package",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("course_iri", sa.String(length=2048), nullable=False),
        sa.Column("structure", sa.JSON(), nullable=False),
        sa.Column("folder", sa.String(length=80), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cmi5_package")),
    )
    with op.batch_alter_table("cmi5_package", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cmi5_package_slug"), ["slug"], unique=False)
    op.create_table(
        "cmi5_au",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("au_iri", sa.String(length=2048), nullable=False),
        sa.Column("module_id", sa.String(length=64), nullable=False),
        sa.Column("move_on", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(["package_id"], ["cmi5_package.id"],
                                name=op.f("fk_cmi5_au_package_id_cmi5_package"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cmi5_au")),
    )
    with op.batch_alter_table("cmi5_au", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cmi5_au_package_id"), ["package_id"], unique=False)
    op.create_table(
        "cmi5_launch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("au_id", sa.Integer(), nullable=False),
        sa.Column("registration", sa.String(length=36), nullable=False),
        sa.Column("launched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["au_id"], ["cmi5_au.id"],
                                name=op.f("fk_cmi5_launch_au_id_cmi5_au"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"],
                                name=op.f("fk_cmi5_launch_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cmi5_launch")),
        sa.UniqueConstraint("session_id", name=op.f("uq_cmi5_launch_session_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_cmi5_launch_token_hash")),
    )
    with op.batch_alter_table("cmi5_launch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cmi5_launch_registration"), ["registration"],
                              unique=False)
    op.create_table(
        "cmi5_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration", sa.String(length=36), nullable=False),
        sa.Column("au_id", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["au_id"], ["cmi5_au.id"],
                                name=op.f("fk_cmi5_status_au_id_cmi5_au"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cmi5_status")),
        sa.UniqueConstraint("registration", "au_id",
                            name=op.f("uq_cmi5_status_registration_au_id")),
    )


def downgrade() -> None:
    op.drop_table("cmi5_status")
    with op.batch_alter_table("cmi5_launch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cmi5_launch_registration"))
    op.drop_table("cmi5_launch")
    with op.batch_alter_table("cmi5_au", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cmi5_au_package_id"))
    op.drop_table("cmi5_au")
    with op.batch_alter_table("cmi5_package", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cmi5_package_slug"))
    op.drop_table("cmi5_package")
    with op.batch_alter_table("authoring_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authoring_change_course_id"))
    op.drop_table("authoring_change")
    with op.batch_alter_table("authoring_trainer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authoring_trainer_user_id"))
        batch_op.drop_index(batch_op.f("ix_authoring_trainer_course_id"))
    op.drop_table("authoring_trainer")
    op.drop_table("authoring_course")
