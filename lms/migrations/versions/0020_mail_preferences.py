"""mail: kinds of e-mail a person turned off, and a key against mailing twice about one thing.

Revision ID: 0020_mail_preferences
Revises: 0008_mail
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lms.db import UTCDateTime

revision = "0020_mail_preferences"
down_revision = "0008_mail"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_mail_outbox_key"), ["key"])
    op.create_table(
        "mail_opt_out",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("created", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"],
                                name=op.f("fk_mail_opt_out_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "category", name=op.f("pk_mail_opt_out")),
    )


def downgrade() -> None:
    op.drop_table("mail_opt_out")
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_mail_outbox_key"), type_="unique")
        batch_op.drop_column("key")
