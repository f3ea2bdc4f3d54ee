"""Quiz attempts: what was shown (the per-attempt layout), what was answered, the grade;
and the answers saved while an attempt is open (restored on reload, graded when time runs
out)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow


class QuizAttempt(Model):
    """One attempt at a quiz, graded on the server against the course version it began in."""

    __tablename__ = "quiz_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"))
    course_version_id: Mapped[int] = mapped_column(sa.ForeignKey("course_version.id"))
    enrollment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enrollment.id", ondelete="CASCADE"), index=True
    )
    quiz_id: Mapped[str] = mapped_column(sa.String(64))
    number: Mapped[int]
    #: {"order": [question ids], "questions": {id: type-specific tokens}}
    layout: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    responses: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    #: {question id: fraction of its points earned}
    results: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    score_raw: Mapped[float | None] = mapped_column(sa.Float)
    score_max: Mapped[float | None] = mapped_column(sa.Float)
    scaled: Mapped[float | None] = mapped_column(sa.Float)
    passed: Mapped[bool | None]
    timed_out: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (sa.Index("ix_quiz_attempt_user_quiz", "user_id", "course_id", "quiz_id"),)

    @property
    def finished(self) -> bool:
        return self.submitted_at is not None


class QuizSavedAnswer(Model):
    """What the learner has answered so far to one question of an open attempt.

    Saved as the learner answers (one row per question, so two saves of different
    questions never overwrite each other), restored into the page on reload, and graded
    when the time limit ends the attempt. A saved answer is not a result: no statement is
    stored for it until the attempt is submitted or closed.
    """

    __tablename__ = "quiz_saved_answer"

    attempt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("quiz_attempt.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: The question's form fields as the page sent them: {field name: [values]}.
    values: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: The page's change counter (milliseconds): a save older than the stored one is
    #: ignored, so a slow request cannot undo a later answer.
    rev: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    saved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
