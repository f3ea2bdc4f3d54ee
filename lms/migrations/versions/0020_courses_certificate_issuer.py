"""courses: the issuer, logo and signatory printed on certificates, per Pemda.

Revision ID: 0020_courses_issuer
Revises: 0014_courses_cover
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lms.db import UTCDateTime

revision = "0020_courses_issuer"
down_revision = "0014_courses_cover"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_issuer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.Column("issuer_name", sa.String(length=200), nullable=False),
        sa.Column("agency_name", sa.String(length=200), nullable=False),
        sa.Column("signatory_name", sa.String(length=200), nullable=False),
        sa.Column("signatory_nip", sa.String(length=18), nullable=False),
        sa.Column("signatory_title", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("logo", sa.String(length=100), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["org_unit_id"], ["org_unit.id"],
                                name=op.f("fk_certificate_issuer_org_unit_id_org_unit"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user.id"],
                                name=op.f("fk_certificate_issuer_updated_by_id_user"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_issuer")),
        sa.UniqueConstraint("org_unit_id", name=op.f("uq_certificate_issuer_org_unit_id")),
    )


def downgrade() -> None:
    op.drop_table("certificate_issuer")
