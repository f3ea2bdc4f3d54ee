"""Training evaluation records: the level-1 reaction surveys and level-3 supervisor
follow-ups (one table, ``evaluation``), and the level-4 results HR links to a course or a
recorded training (``evaluation_result``). Level 2 is read from quiz attempts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow

REACTION = 1  # level 1: the learner's reaction survey
BEHAVIOUR = 3  # level 3: the supervisor's follow-up

#: Level 3 waits in ``scheduled`` until it is due; then ``open`` for the respondent.
SCHEDULED = "scheduled"
OPEN = "open"
DONE = "done"
#: Due, but the employee has no supervisor to ask (HR sees these in the report).
NO_SUPERVISOR = "no_supervisor"
#: The completion behind it was voided before anyone answered.
CANCELLED = "cancelled"


class Evaluation(Model):
    """One questionnaire about one person's completion of one course or training.

    ``user_id`` is the person who learned; ``respondent_id`` who answers (the learner
    for level 1, the supervisor for level 3, chosen when the follow-up falls due).
    """

    __tablename__ = "evaluation"

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         index=True)
    respondent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    #: The course (Lentera course) or recorded training evaluated; activity_iri names either.
    course_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    training_id: Mapped[int | None] = mapped_column(index=True)
    activity_iri: Mapped[str] = mapped_column(sa.String(500))
    title: Mapped[str] = mapped_column(sa.String(300))
    provider: Mapped[str] = mapped_column(sa.String(300), default="")
    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    completion_statement_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    #: When it may be answered (level 3: N weeks after completion).
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    #: {question id: 1..5}
    answers: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: The xAPI statement that carries the answers.
    statement_id: Mapped[str | None] = mapped_column(sa.String(36))
    reminders_sent: Mapped[int] = mapped_column(default=0)
    last_reminder_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("level", "user_id", "activity_iri"),
        sa.Index("ix_evaluation_level_status_due", "level", "status", "due_at"),
    )


class EvaluationResult(Model):
    """Level 4: an organisational result HR links to a course or training, e.g. the
    service satisfaction index of an office before and after its staff were trained."""

    __tablename__ = "evaluation_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    training_id: Mapped[int | None] = mapped_column(index=True)
    indicator: Mapped[str] = mapped_column(sa.String(300))
    unit: Mapped[str] = mapped_column(sa.String(50), default="")
    baseline: Mapped[float | None] = mapped_column(sa.Float)
    value: Mapped[float] = mapped_column(sa.Float)
    measured_on: Mapped[dt.date] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    org_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("org_unit.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def change(self) -> float | None:
        return None if self.baseline is None else self.value - self.baseline
