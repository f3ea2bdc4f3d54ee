"""The one definition of what earns JP, as SQL (no Flask, no views).

Every JP figure of Lentera is built from these two derived tables and nothing else:

- ``completion`` — Lentera's own courses, written by the courses ledger from statements;
- ``jp_credit`` — every other learning credited from a ``completed`` statement carrying
  the JP result extension (offline training HR recorded, submissions HR verified, learning
  reported by other platforms), written by the ``jp-credits`` consumer.

The same consumer keeps the per-employee, per-year summary (``jp_summary``) of exactly
these records, so a total read from the summary equals the sum of the records.
:mod:`lms.jp.service` answers per employee; HR-wide reports aggregate these subqueries
(or the summary) in SQL.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa

from lms.courses.models import Completion
from lms.jp.models import JpSubmission
from lms.reports.models import JpCredit, TrainingParticipant


@functools.cache
def credited_records() -> sa.Subquery:
    """Every JP-earning record: course completions and other credited learning.

    Columns: ``user_id, completed_at, title, kind, provider, jp, certificate,
    statement_id, activity_iri``. Built once: SQLAlchemy constructs are immutable, and
    building the union and its column collection cost a transcript request about 1 ms.
    """
    course: Any = sa.select(
        Completion.user_id.label("user_id"),
        Completion.completed_at.label("completed_at"),
        Completion.course_title.label("title"),
        sa.literal_column("'course'").label("kind"),
        sa.literal_column("'Lentera'").label("provider"),
        Completion.jp.label("jp"),
        Completion.certificate_number.label("certificate"),
        Completion.statement_id.label("statement_id"),
        sa.literal_column("''").label("activity_iri"),
    )
    other = (
        sa.select(
            JpCredit.user_id,
            JpCredit.completed_at,
            JpCredit.title,
            JpCredit.kind,
            JpCredit.provider,
            JpCredit.jp,
            sa.func.coalesce(TrainingParticipant.certificate_number,
                             JpSubmission.certificate_number),
            JpCredit.statement_id,
            JpCredit.activity_iri,
        )
        .outerjoin(TrainingParticipant,
                   TrainingParticipant.statement_id == JpCredit.statement_id)
        .outerjoin(JpSubmission, JpSubmission.statement_id == JpCredit.statement_id)
    )
    return sa.union_all(course, other).subquery("jp_records")


@functools.cache
def credited_amounts() -> sa.Subquery:
    """``user_id, jp, completed_at, kind`` of every JP-earning record: the lean form of
    :func:`credited_records` for sums (built once, like it)."""
    return sa.union_all(
        sa.select(Completion.user_id, Completion.jp, Completion.completed_at,
                  sa.literal_column("'course'").label("kind")),
        sa.select(JpCredit.user_id, JpCredit.jp, JpCredit.completed_at, JpCredit.kind),
    ).subquery("jp_amounts")
