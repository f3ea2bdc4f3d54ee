"""Mandatory learning: audiences, assignments and their members, learning programs, and
the completions the ``assignments`` statement consumer derives from the LRS."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow

#: What an assignment or a program item points at.
COURSE = "course"
PROGRAM = "program"
TRAINING = "training"
TARGET_KINDS = (COURSE, PROGRAM, TRAINING)

#: Program completion rules.
RULE_ALL = "all"
RULE_N_OF_M = "n_of_m"
RULE_IN_ORDER = "in_order"
PROGRAM_RULES = (RULE_ALL, RULE_N_OF_M, RULE_IN_ORDER)


class Audience(Model):
    """A saved audience: rules HR names once and uses in several assignments.

    ``rules``: ``{"units": [org unit id, ...] (each with its subtree), "positions": [id],
    "kinds": ["pelaksana", ...], "grades": ["Ahli Muda", ...]}``; a person matches when
    every non-empty list has them (units OR'ed among themselves, and so on)."""

    __tablename__ = "assignment_audience"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    rules: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: The HR scope it was made in (who may use and see it).
    org_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("org_unit.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Program(Model):
    """A learning program (jalur pembelajaran): an ordered set of courses and offline
    trainings with a completion rule, optional validity (recertification) and a
    certificate of its own."""

    __tablename__ = "learning_program"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    rule: Mapped[str] = mapped_column(sa.String(20), default=RULE_ALL)
    #: For ``n_of_m``: how many items complete the program.
    required_count: Mapped[int | None] = mapped_column()
    #: Months a completion stays valid (None: for ever).
    validity_months: Mapped[int | None] = mapped_column()
    #: Days before the lapse when the program reopens for recertification.
    reopen_days: Mapped[int] = mapped_column(default=30)
    org_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("org_unit.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    items: Mapped[list[ProgramItem]] = orm.relationship(
        back_populates="program", cascade="all, delete-orphan",
        order_by="ProgramItem.position")


class ProgramItem(Model):
    """One part of a program: a course (Lentera's own, or cmi5/SCORM content imported as
    a course) or an offline training, at ``position`` in the order."""

    __tablename__ = "learning_program_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("learning_program.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(sa.String(20))
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"))
    training_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("training.id", ondelete="CASCADE"))

    program: Mapped[Program] = orm.relationship(back_populates="items")


class ProgramCompletion(Model):
    """A person met a program's rule: derived from :class:`LearningFact` rows (replayable),
    with the certificate number and, for a program with validity, when it lapses."""

    __tablename__ = "learning_program_completion"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("learning_program.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         index=True)
    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    certificate_number: Mapped[str] = mapped_column(sa.String(40), unique=True)

    __table_args__ = (sa.UniqueConstraint("program_id", "user_id", "completed_at"),)


class Assignment(Model):
    """HR assigns a course, a program or an offline training to an audience."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    target_kind: Mapped[str] = mapped_column(sa.String(20))
    course_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    program_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("learning_program.id", ondelete="CASCADE"), index=True)
    training_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("training.id", ondelete="CASCADE"), index=True)
    #: The audience rules (see :class:`Audience`), plus ``"nips": [...]`` for a list.
    rules: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    audience_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assignment_audience.id", ondelete="SET NULL"))
    #: A fixed due date, or ``due_days`` after the person joined the audience.
    due_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    due_days: Mapped[int | None] = mapped_column()
    #: Every year again (a new cycle on the anniversary of the due date).
    yearly: Mapped[bool] = mapped_column(default=False)
    enrol_now: Mapped[bool] = mapped_column(default=True)
    #: Reminder schedule, in days: before the due date ("7,1"), on it, after it ("3,14");
    #: after ``escalate_after`` days overdue the supervisor is told too (None: never).
    remind_before: Mapped[str] = mapped_column(sa.String(50), default="7,1")
    remind_on_due: Mapped[bool] = mapped_column(default=True)
    remind_after: Mapped[str] = mapped_column(sa.String(50), default="3,14")
    escalate_after: Mapped[int | None] = mapped_column(default=7)
    org_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("org_unit.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AssignmentMember(Model):
    """One person in one assignment's audience, for one cycle.

    ``left_at`` is set when they leave the audience: the row stays (what they did counts)
    but they are no longer chased. A yearly assignment gets a new row per cycle."""

    __tablename__ = "assignment_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         index=True)
    cycle: Mapped[int] = mapped_column(default=0)
    joined_at: Mapped[dt.date] = mapped_column(sa.Date)
    #: Learning completed from this instant on counts for this cycle.
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    due_date: Mapped[dt.date] = mapped_column(sa.Date)
    #: The end of the due date in the Pemda's time zone: completed before it is on time.
    due_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    left_at: Mapped[dt.date | None] = mapped_column(sa.Date)

    __table_args__ = (
        sa.UniqueConstraint("assignment_id", "user_id", "cycle"),
        sa.Index("ix_assignment_member_due", "assignment_id", "due_date"),
    )


class ReminderSent(Model):
    """One reminder stage sent for one member (``b7``, ``d0``, ``a3``, ``e7``): never twice."""

    __tablename__ = "assignment_reminder"

    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignment_member.id", ondelete="CASCADE"), primary_key=True)
    stage: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LearningFact(Model):
    """Derived from the LRS by the ``assignments`` consumer: one completing statement of a
    course (the courses ledger's rule) or of a recorded offline training (the JP ledger's
    rule). Unlike the first-completion-only ``completion`` row, every completion is kept,
    so a yearly cycle or a recertification can be met again."""

    __tablename__ = "assignment_fact"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(20))
    ref_id: Mapped[int] = mapped_column()
    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    statement_id: Mapped[str] = mapped_column(sa.String(36), unique=True)

    __table_args__ = (sa.Index("ix_assignment_fact_user_kind", "user_id", "kind", "ref_id"),
                      sa.Index("ix_assignment_fact_kind_ref", "kind", "ref_id"))
