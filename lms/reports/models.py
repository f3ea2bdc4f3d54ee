"""Tables of HR reporting: HR scopes, offline training records, the JP credits derived
from statements about learning outside Lentera's courses, target positions and the
development routes an AKPK plan can choose from."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow


class TrainingKind(enum.StrEnum):
    """Routes of learning (Peraturan LAN 10/2018): classical and non-classical."""

    CLASSROOM = "classroom"  # pelatihan klasikal
    SEMINAR = "seminar"
    WORKSHOP = "workshop"
    COACHING = "coaching"
    MENTORING = "mentoring"
    SECONDMENT = "secondment"  # detasering / magang
    UNIVERSITY = "university"  # kursus di perguruan tinggi
    PRIVATE = "private"  # lembaga pelatihan swasta
    ELEARNING = "elearning"  # e-learning outside Lentera

    @property
    def label(self) -> str:
        return str(TRAINING_KIND_LABELS[self])


TRAINING_KIND_LABELS = {
    TrainingKind.CLASSROOM: _l("Classroom training"),
    TrainingKind.SEMINAR: _l("Seminar"),
    TrainingKind.WORKSHOP: _l("Workshop"),
    TrainingKind.COACHING: _l("Coaching"),
    TrainingKind.MENTORING: _l("Mentoring"),
    TrainingKind.SECONDMENT: _l("Secondment"),
    TrainingKind.UNIVERSITY: _l("Course at a university"),
    TrainingKind.PRIVATE: _l("Course at a private provider"),
    TrainingKind.ELEARNING: _l("External e-learning"),
}


def _enum(cls: type[enum.Enum]) -> sa.Enum:
    return sa.Enum(cls, native_enum=False, length=20,
                   values_callable=lambda e: [m.value for m in e])


class HrScope(Model):
    """The org unit (with its subtree) whose employees an HR user may see.

    Without a row, an HR user sees the OPD of their current position; a scope on the
    Pemda root sees everyone.
    """

    __tablename__ = "hr_scope"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_unit.id", ondelete="CASCADE"),
                                             index=True)


class Training(Model):
    """Learning recorded by HR: classroom training, seminars, workshops, coaching, courses at
    universities or private providers. Its participants' completions are xAPI statements
    on ``{BASE_URL}/training/{id}``; what counts (JP, evidence) is derived from those."""

    __tablename__ = "training"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    kind: Mapped[TrainingKind] = mapped_column(_enum(TrainingKind))
    provider: Mapped[str] = mapped_column(sa.String(300))
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    end_date: Mapped[dt.date] = mapped_column(sa.Date)
    jp: Mapped[float] = mapped_column(sa.Float)
    #: [{"code": "M.03", "level": 2}, ...]
    competencies: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: Stored file name under UPLOAD_DIR/training/<id>/ (a certificate or attendance list).
    certificate_file: Mapped[str | None] = mapped_column(sa.String(200))
    #: The org unit that organised it (HR scope of whoever recorded it), for listing.
    org_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("org_unit.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Set when HR voided the training: its statements are voided, it counts for nobody.
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    voided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))

    participants: Mapped[list[TrainingParticipant]] = orm.relationship(
        back_populates="training", cascade="all, delete-orphan",
        order_by="TrainingParticipant.id")
    changes: Mapped[list[TrainingChange]] = orm.relationship(
        back_populates="training", cascade="all, delete-orphan",
        order_by="TrainingChange.id")

    @property
    def voided(self) -> bool:
        return self.voided_at is not None


class TrainingChangeKind(enum.StrEnum):
    CREATED = "created"
    EDITED = "edited"
    PARTICIPANTS_ADDED = "participants_added"
    PARTICIPANT_REMOVED = "participant_removed"
    VOIDED = "voided"


class TrainingChange(Model):
    """One change to a recorded training: who, when, what (the history on its page)."""

    __tablename__ = "training_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(sa.ForeignKey("training.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    #: The name at the time (kept when the account goes).
    user_name: Mapped[str] = mapped_column(sa.String(200), default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[TrainingChangeKind] = mapped_column(_enum(TrainingChangeKind))
    #: ``{"fields": {name: [old, new]}, "participants": [{"nip", "name"}], "reason",
    #: "statements": {"voided": n, "sent": n}}`` as it applies.
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    training: Mapped[Training] = orm.relationship(back_populates="changes")


class TrainingParticipant(Model):
    """One participant of a recorded training and the statement that records it."""

    __tablename__ = "training_participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(sa.ForeignKey("training.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         index=True)
    statement_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    certificate_number: Mapped[str | None] = mapped_column(sa.String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    training: Mapped[Training] = orm.relationship(back_populates="participants")

    __table_args__ = (sa.UniqueConstraint("training_id", "user_id"),)


class JpCredit(Model):
    """Derived from a ``completed`` statement carrying the JP result extension about an
    activity that is not a Lentera course (those are credited by the courses ledger):
    recorded offline training, and learning reported by other platforms."""

    __tablename__ = "jp_credit"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    activity_iri: Mapped[str] = mapped_column(sa.String(2048))
    #: The training id when the activity is one HR recorded.
    training_id: Mapped[int | None] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    kind: Mapped[str] = mapped_column(sa.String(50), default="")
    provider: Mapped[str] = mapped_column(sa.String(300), default="")
    jp: Mapped[float] = mapped_column(sa.Float)
    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    statement_id: Mapped[str] = mapped_column(sa.String(36), unique=True)

    __table_args__ = (
        sa.Index("ix_jp_credit_user_completed", "user_id", "completed_at"),
        sa.Index("ix_jp_credit_completed", "completed_at"),
    )


class TargetPosition(Model):
    """The position an employee is being developed toward (for AKPK)."""

    __tablename__ = "target_position"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    position_id: Mapped[int] = mapped_column(sa.ForeignKey("position.id", ondelete="CASCADE"),
                                             index=True)


class DevelopmentRoute(Model):
    """A planned way to close a competency gap besides Lentera's courses: a classroom
    training, coaching, mentoring, a secondment... with its JP, provider and schedule."""

    __tablename__ = "development_route"

    id: Mapped[int] = mapped_column(primary_key=True)
    competency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competency.id", ondelete="CASCADE"), index=True)
    #: The level the route brings a participant to.
    level: Mapped[int] = mapped_column(default=1)
    kind: Mapped[TrainingKind] = mapped_column(_enum(TrainingKind))
    title: Mapped[str] = mapped_column(sa.String(300))
    provider: Mapped[str] = mapped_column(sa.String(300), default="")
    jp: Mapped[float] = mapped_column(sa.Float)
    schedule: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Cost per JP per participant in rupiah; None: the plan's default applies.
    cost_per_jp: Mapped[float | None] = mapped_column(sa.Float)

    competency: Mapped[Any] = orm.relationship("Competency", lazy="joined")


class JpCourseCredit(Model):
    """A course completion as the ``jp-credits`` consumer counted it into
    :class:`JpSummary`: the first completion of a Lentera course per person (the rule of
    the courses ledger), withdrawn when its statement is voided.

    The courses ledger's ``completion`` rows are written by another consumer with its own
    cursor, so the summary cannot lean on them without racing it; this row is what the
    summary remembers of each course completion it counted."""

    __tablename__ = "jp_course_credit"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    course_id: Mapped[int]
    jp: Mapped[float] = mapped_column(sa.Float)
    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    statement_id: Mapped[str] = mapped_column(sa.String(36), unique=True)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "course_id"),
        sa.Index("ix_jp_course_credit_user_completed", "user_id", "completed_at"),
    )


#: Months of a :class:`JpSummary` row: ``jp_01``..``jp_12`` and ``n_01``..``n_12``.
MONTHS = range(1, 13)


def month_jp(month: int) -> str:
    return f"jp_{month:02d}"


def month_count(month: int) -> str:
    return f"n_{month:02d}"


def month_enrolled(month: int) -> str:
    return f"en_{month:02d}"


def month_enrolled_completed(month: int) -> str:
    return f"enc_{month:02d}"


jp_summary_table = sa.Table(
    "jp_summary",
    Model.metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("jp", sa.Float, nullable=False),
    sa.Column("completions", sa.Integer, nullable=False),
    *[sa.Column(month_jp(m), sa.Float, nullable=False) for m in MONTHS],
    *[sa.Column(month_count(m), sa.Integer, nullable=False) for m in MONTHS],
    # Course enrolments made in the year (by the local month of ``enrolled_at``), and how
    # many of them have a course completion, whenever it came (a January completion of a
    # December enrolment counts in the December enrolment's row).
    sa.Column("enrolled", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("enrolled_completed", sa.Integer, nullable=False, server_default=sa.text("0")),
    *[sa.Column(month_enrolled(m), sa.Integer, nullable=False, server_default=sa.text("0"))
      for m in MONTHS],
    *[sa.Column(month_enrolled_completed(m), sa.Integer, nullable=False,
                server_default=sa.text("0")) for m in MONTHS],
    sa.Index("ix_jp_summary_year", "year"),
)


class JpSummary(Model):
    """JP earned and learning completed by one employee in one calendar year (local time,
    Asia/Jakarta), in total and per month: every course completion and every other credited
    learning (:class:`JpCredit`), and the course enrolments made in the year with how many
    of them were completed. Kept by the ``jp-credits`` consumer in the transaction
    that advances its cursor, rebuilt by its replay, and always equal to
    :func:`lms.reports.summary.recompute` (tested). The dashboard reads it instead of
    summing hundreds of thousands of records per request.

    One row per (employee, year) with the twelve months as columns, so a whole-Pemda
    dashboard is one pass over 100,000 rows."""

    __table__ = jp_summary_table

    user_id: Mapped[int]
    year: Mapped[int]
    jp: Mapped[float]
    completions: Mapped[int]
    enrolled: Mapped[int]
    enrolled_completed: Mapped[int]
