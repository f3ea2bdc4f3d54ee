"""reports: per-employee, per-year JP summary kept by the jp-credits consumer.

Creates ``jp_course_credit`` (the course completions the summary counted) and
``jp_summary``, and fills both from what is already derived (``completion`` and
``jp_credit``), so an existing installation has its summary at once; from then on the
``jp-credits`` consumer keeps them (``lms xapi replay jp-credits`` rebuilds them from the
statements).

Revision ID: 0015_reports_summary
Revises: 0006_reports
Create Date: 2026-11-23 22:00:00
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0015_reports_summary"
down_revision = "0006_reports"
branch_labels = None
depends_on = ("0003_courses",)

MONTHS = range(1, 13)
LOCAL_TZ = ZoneInfo("Asia/Jakarta")


def upgrade() -> None:
    op.create_table(
        "jp_course_credit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("jp", sa.Float(), nullable=False),
        sa.Column("completed_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"],
                                name=op.f("fk_jp_course_credit_user_id_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jp_course_credit")),
        sa.UniqueConstraint("statement_id", name=op.f("uq_jp_course_credit_statement_id")),
        sa.UniqueConstraint("user_id", "course_id",
                            name=op.f("uq_jp_course_credit_user_id_course_id")),
    )
    with op.batch_alter_table("jp_course_credit", schema=None) as batch_op:
        batch_op.create_index("ix_jp_course_credit_user_completed",
                              ["user_id", "completed_at"], unique=False)
    op.create_table(
        "jp_summary",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("jp", sa.Float(), nullable=False),
        sa.Column("completions", sa.Integer(), nullable=False),
        *[sa.Column(f"jp_{m:02d}", sa.Float(), nullable=False) for m in MONTHS],
        *[sa.Column(f"n_{m:02d}", sa.Integer(), nullable=False) for m in MONTHS],
        sa.ForeignKeyConstraint(["user_id"], ["user.id"],
                                name=op.f("fk_jp_summary_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "year", name=op.f("pk_jp_summary")),
    )
    with op.batch_alter_table("jp_summary", schema=None) as batch_op:
        batch_op.create_index("ix_jp_summary_year", ["year"], unique=False)
    _fill()


def _fill() -> None:
    """Summary rows from the records derived so far (the consumer's own arithmetic:
    see lms.reports.summary)."""
    bind = op.get_bind()
    bind.execute(sa.text(
        "INSERT INTO jp_course_credit (user_id, course_id, jp, completed_at, statement_id) "
        "SELECT user_id, course_id, jp, completed_at, statement_id FROM completion"))
    utc = lms.db.UTCDateTime(timezone=True)
    grouped: dict[tuple[int, int], list[tuple[float, dt.datetime, str]]] = {}
    for table in ("jp_course_credit", "jp_credit"):
        rows = bind.execute(sa.text(
            f"SELECT user_id, jp, completed_at, statement_id FROM {table}"  # noqa: S608
        ).columns(completed_at=utc))
        for user_id, jp, when, statement_id in rows:
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            year = when.astimezone(LOCAL_TZ).year
            grouped.setdefault((user_id, year), []).append((jp, when, statement_id))
    if not grouped:
        return
    summary = sa.table("jp_summary", *[sa.column(name) for name in (
        ["user_id", "year", "jp", "completions"] + [f"jp_{m:02d}" for m in MONTHS]
        + [f"n_{m:02d}" for m in MONTHS])])
    batch = []
    for (user_id, year), records in grouped.items():
        row = {"user_id": user_id, "year": year, "jp": 0.0, "completions": 0,
               **{f"jp_{m:02d}": 0.0 for m in MONTHS}, **{f"n_{m:02d}": 0 for m in MONTHS}}
        for jp, when, _sid in sorted(records, key=lambda r: (r[2], r[1])):
            month = when.astimezone(LOCAL_TZ).month
            row["jp"] += float(jp)
            row["completions"] += 1
            row[f"jp_{month:02d}"] += float(jp)
            row[f"n_{month:02d}"] += 1
        for key in ["jp", *(f"jp_{m:02d}" for m in MONTHS)]:
            row[key] = round(row[key], 6)
        batch.append(row)
        if len(batch) >= 5000:
            op.bulk_insert(summary, batch)
            batch = []
    if batch:
        op.bulk_insert(summary, batch)


def downgrade() -> None:
    with op.batch_alter_table("jp_summary", schema=None) as batch_op:
        batch_op.drop_index("ix_jp_summary_year")
    op.drop_table("jp_summary")
    with op.batch_alter_table("jp_course_credit", schema=None) as batch_op:
        batch_op.drop_index("ix_jp_course_credit_user_completed")
    op.drop_table("jp_course_credit")
