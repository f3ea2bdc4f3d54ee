"""reports: the JP summary also counts course enrolments and the completed ones.

Adds to ``jp_summary`` the enrolments made in the year (``enrolled``, per month
``en_01``..``en_12``) and how many of them have a course completion, whenever it came
(``enrolled_completed``, ``enc_01``..``enc_12``), so the dashboard's enrolled and completed
figures read the summary instead of joining every enrolment to the completions per
request. Fills them from the enrolments and the course completions the summary already
counted (``jp_course_credit``); from then on the ``jp-credits`` consumer and the enrolment
hook of ``lms.reports.summary`` keep them.

Revision ID: 0018_reports_summary_enrolments
Revises: 0015_reports_training_changes
Create Date: 2026-11-24 01:00:00
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0018_reports_summary_enrolments"
down_revision = "0015_reports_training_changes"
branch_labels = None
depends_on = None

MONTHS = range(1, 13)
LOCAL_TZ = ZoneInfo("Asia/Jakarta")
COLUMNS = (["enrolled", "enrolled_completed"] + [f"en_{m:02d}" for m in MONTHS]
           + [f"enc_{m:02d}" for m in MONTHS])


def upgrade() -> None:
    with op.batch_alter_table("jp_summary", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False,
                                          server_default=sa.text("0")))
    _fill()


def _fill() -> None:
    """The enrolment columns from the enrolments and counted course completions (the
    arithmetic of lms.reports.summary): existing rows are updated, (employee, year) pairs
    with enrolments but no learning get a row of their own."""
    bind = op.get_bind()
    utc = lms.db.UTCDateTime(timezone=True)
    counts: dict[tuple[int, int], list[int]] = {}
    rows = bind.execute(sa.text(
        "SELECT e.user_id, e.enrolled_at, c.id FROM enrollment e "
        "LEFT JOIN jp_course_credit c ON c.user_id = e.user_id AND c.course_id = e.course_id"
    ).columns(enrolled_at=utc))
    for user_id, when, credit in rows:
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        local = when.astimezone(LOCAL_TZ)
        cell = counts.setdefault((user_id, local.year), [0] * len(COLUMNS))
        cell[0] += 1
        cell[1 + local.month] += 1
        if credit is not None:
            cell[1] += 1
            cell[13 + local.month] += 1
    if not counts:
        return
    existing = {(user_id, year) for user_id, year in bind.execute(
        sa.text("SELECT user_id, year FROM jp_summary"))}
    summary = sa.table("jp_summary", *[sa.column(name) for name in (
        ["user_id", "year", "jp", "completions"] + [f"jp_{m:02d}" for m in MONTHS]
        + [f"n_{m:02d}" for m in MONTHS] + COLUMNS)])
    update = (sa.update(summary)
              .where(summary.c.user_id == sa.bindparam("b_user_id"),
                     summary.c.year == sa.bindparam("b_year"))
              .values({name: sa.bindparam(name) for name in COLUMNS}))
    updates, inserts = [], []
    for (user_id, year), values in counts.items():
        if (user_id, year) in existing:
            updates.append({"b_user_id": user_id, "b_year": year, **dict(zip(COLUMNS, values,
                                                                              strict=True))})
        else:
            inserts.append({"user_id": user_id, "year": year, "jp": 0.0, "completions": 0,
                            **{f"jp_{m:02d}": 0.0 for m in MONTHS},
                            **{f"n_{m:02d}": 0 for m in MONTHS},
                            **dict(zip(COLUMNS, values, strict=True))})
        if len(updates) >= 5000:
            bind.execute(update, updates)
            updates = []
        if len(inserts) >= 5000:
            op.bulk_insert(summary, inserts)
            inserts = []
    if updates:
        bind.execute(update, updates)
    if inserts:
        op.bulk_insert(summary, inserts)


def downgrade() -> None:
    bind = op.get_bind()
    # Rows that only held enrolments hold nothing once the columns go.
    bind.execute(sa.text("DELETE FROM jp_summary WHERE completions = 0"))
    with op.batch_alter_table("jp_summary", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
