"""Tables of competency assessment: rounds, their raters and answers.

A *round* assesses one employee in a set of competencies. It has one rater entry per
person and role: the employee (self), a supervisor, peers and subordinates (a 360 round
that HR opens), or an assessment centre whose levels HR records. Each submitted entry
stores one xAPI statement per competency (see :mod:`lms.assessment.service`); the
competency engine turns those into evidence, so profiles stay derived from statements.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow
from lms.people.models import User


class RoundKind(enum.StrEnum):
    SELF = "self"
    SUPERVISOR = "supervisor"
    FULL = "360"
    CENTRE = "centre"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    RoundKind.SELF: _l("Self-assessment"),
    RoundKind.SUPERVISOR: _l("Supervisor assessment"),
    RoundKind.FULL: _l("360-degree assessment"),
    RoundKind.CENTRE: _l("Assessment centre"),
}


class RaterRole(enum.StrEnum):
    SELF = "self"
    SUPERVISOR = "supervisor"
    PEER = "peer"
    SUBORDINATE = "subordinate"
    CENTRE = "centre"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    RaterRole.SELF: _l("Self"),
    RaterRole.SUPERVISOR: _l("Supervisor"),
    RaterRole.PEER: _l("Peer"),
    RaterRole.SUBORDINATE: _l("Subordinate"),
    RaterRole.CENTRE: _l("Assessment centre"),
}


def _enum(cls: type[enum.Enum]) -> sa.Enum:
    return sa.Enum(cls, native_enum=False, length=20,
                   values_callable=lambda e: [m.value for m in e])


class AssessmentRound(Model):
    """One assessment of one employee in a set of competencies."""

    __tablename__ = "assessment_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Registration of the round's statements (context.registration) and its IRI tail.
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    kind: Mapped[RoundKind] = mapped_column(_enum(RoundKind))
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                             index=True)
    #: Competency codes assessed, in display order.
    competencies: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[str] = mapped_column(sa.String(10), default="open")  # open | closed
    opened_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    employee: Mapped[User] = orm.relationship(foreign_keys=[employee_id], lazy="joined")
    opened_by: Mapped[User | None] = orm.relationship(foreign_keys=[opened_by_id])
    raters: Mapped[list[AssessmentRater]] = orm.relationship(
        back_populates="round", order_by="AssessmentRater.id", cascade="all, delete-orphan",
        lazy="selectin")


class AssessmentRater(Model):
    """One person's questionnaire in a round, and what they answered."""

    __tablename__ = "assessment_rater"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessment_round.id", ondelete="CASCADE"), index=True)
    rater_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"),
                                                 index=True)
    role: Mapped[RaterRole] = mapped_column(_enum(RaterRole))
    #: competency code -> {"level": n, "answers": {"<level>.<i>": 0..3}}
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: competency code -> id of the statement that carries the result.
    statement_ids: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    #: For an assessment centre: who assessed (provider, assessor) and when.
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: HR validation of a supervisor's rating, when the framework's policy asks for it:
    #: None (not needed), "pending", "validated"; a rating HR returns goes back to the
    #: supervisor (submitted_at cleared, validation None, the note kept for them).
    validation: Mapped[str | None] = mapped_column(sa.String(10))
    #: Competency codes whose statements wait for the validation.
    held_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    validated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    validated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: HR's comment when it returned the rating (shown to the supervisor).
    validation_note: Mapped[str] = mapped_column(sa.Text, default="")

    round: Mapped[AssessmentRound] = orm.relationship(back_populates="raters")
    rater: Mapped[User | None] = orm.relationship(lazy="joined", foreign_keys=[rater_id])
    validated_by: Mapped[User | None] = orm.relationship(foreign_keys=[validated_by_id])

    __table_args__ = (sa.UniqueConstraint("round_id", "rater_id", "role"),)

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def pending_validation(self) -> bool:
        return self.submitted and self.validation == "pending"

    @property
    def counts(self) -> bool:
        """Submitted and, where HR validation is asked for, validated."""
        return self.submitted and self.validation != "pending"

    def level(self, code: str) -> int | None:
        entry = (self.answers or {}).get(code)
        return int(entry["level"]) if entry and "level" in entry else None


class AssessmentDraft(Model):
    """A rater's answers to one competency of a questionnaire not yet submitted (one row
    per competency, so two pages saved at once never overwrite each other)."""

    __tablename__ = "assessment_draft"

    rater_entry_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assessment_rater.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    #: {"<level>.<index>": 0..3}
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    saved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
