"""Tables of the competency engine.

Configuration (frameworks, competencies, levels, position standards, evidence rules) is
edited by people; evidence, quiz item results and profiles are *derived* from xAPI
statements by the profile engine (:mod:`lms.competency.engine`) and can be rebuilt from
the statements at any time. Derived rows never hold wall-clock times, only values taken
from statements, so a rebuild gives byte-identical profiles.
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

#: Highest proficiency level of every competency (PermenPAN-RB 38/2017).
MAX_LEVEL = 5


class CompetencyType(enum.StrEnum):
    """The three kinds of ASN competency."""

    MANAJERIAL = "manajerial"
    SOSIAL_KULTURAL = "sosial_kultural"
    TEKNIS = "teknis"

    @property
    def label(self) -> str:
        return str(COMPETENCY_TYPE_LABELS[self])


COMPETENCY_TYPE_LABELS = {
    CompetencyType.MANAJERIAL: _l("Managerial"),
    CompetencyType.SOSIAL_KULTURAL: _l("Socio-cultural"),
    CompetencyType.TEKNIS: _l("Technical"),
}


class EvidenceSource(enum.StrEnum):
    """Where a rating comes from; frameworks rank them (see ``Framework.policy``)."""

    ASSESSMENT = "assessment"  # assessment centre (penilaian kompetensi)
    SUPERVISOR = "supervisor"
    COURSE = "course"  # Lentera's own courses and quizzes
    EXTERNAL = "external"  # another learning platform sending xAPI
    SELF = "self"  # self-assessment

    @property
    def label(self) -> str:
        return str(SOURCE_LABELS[self])


SOURCE_LABELS = {
    EvidenceSource.ASSESSMENT: _l("Assessment centre"),
    EvidenceSource.SUPERVISOR: _l("Supervisor"),
    EvidenceSource.COURSE: _l("Course"),
    EvidenceSource.EXTERNAL: _l("External learning"),
    EvidenceSource.SELF: _l("Self-assessment"),
}


class Criterion(enum.StrEnum):
    """What a statement must show for an evidence rule to produce evidence."""

    COMPLETED = "completed"
    PASSED = "passed"
    SCORE_MIN = "score_min"  # result.score.scaled >= threshold
    SCORE_BANDS = "score_bands"  # scaled score bands map to levels
    ITEMS = "items"  # share of correct answers on a quiz's items tagged with the competency

    @property
    def label(self) -> str:
        return str(CRITERION_LABELS[self])


CRITERION_LABELS = {
    Criterion.COMPLETED: _l("Completed"),
    Criterion.PASSED: _l("Passed"),
    Criterion.SCORE_MIN: _l("Scaled score at least"),
    Criterion.SCORE_BANDS: _l("Score bands to levels"),
    Criterion.ITEMS: _l("Tagged quiz items, score bands to levels"),
}


def _enum(cls: type[enum.Enum], length: int = 20) -> sa.Enum:
    return sa.Enum(cls, native_enum=False, length=length,
                   values_callable=lambda e: [m.value for m in e])


class Framework(Model):
    """A competency dictionary: the national managerial/socio-cultural one, or an agency's
    technical set. ``policy`` says how evidence combines into a level (see
    :mod:`lms.competency.policy`)."""

    __tablename__ = "competency_framework"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(50), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[str] = mapped_column(sa.String(300), default="")
    policy: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    competencies: Mapped[list[Competency]] = orm.relationship(
        back_populates="framework", order_by="Competency.sort_order, Competency.code",
        cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Framework {self.code}>"


class Competency(Model):
    """One competency (e.g. M.03 Komunikasi) with a stable IRI used in xAPI."""

    __tablename__ = "competency"

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competency_framework.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(50), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[CompetencyType] = mapped_column(_enum(CompetencyType))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: Stable identifier in xAPI statements; set once, never rewritten.
    iri: Mapped[str] = mapped_column(sa.String(500), unique=True)
    sort_order: Mapped[int] = mapped_column(default=0)

    framework: Mapped[Framework] = orm.relationship(back_populates="competencies")
    levels: Mapped[list[ProficiencyLevel]] = orm.relationship(
        back_populates="competency", order_by="ProficiencyLevel.level",
        cascade="all, delete-orphan", lazy="selectin")

    def __repr__(self) -> str:
        return f"<Competency {self.code}>"


class ProficiencyLevel(Model):
    """Level 1..5 of a competency: what it means and the behaviour that shows it."""

    __tablename__ = "competency_level"

    competency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competency.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[int] = mapped_column(primary_key=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    indicators: Mapped[list[str]] = mapped_column(sa.JSON, default=list)

    competency: Mapped[Competency] = orm.relationship(back_populates="levels")


class PositionRequirement(Model):
    """Standar Kompetensi Jabatan: the level a position requires in one competency."""

    __tablename__ = "position_requirement"

    position_id: Mapped[int] = mapped_column(
        sa.ForeignKey("position.id", ondelete="CASCADE"), primary_key=True)
    competency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competency.id", ondelete="CASCADE"), primary_key=True, index=True)
    level: Mapped[int]

    competency: Mapped[Competency] = orm.relationship(lazy="joined")


class EvidenceRule(Model):
    """One *version* of an evidence rule: which statements prove which competency level.

    Versions of a rule share ``rule_key``. A statement is judged by the highest version
    whose ``effective_from`` is not after the statement's ``stored`` time (None: since
    always, i.e. the version also applies to statements stored before it existed).
    Evidence records the version (``rule_id``) that produced it.
    """

    __tablename__ = "evidence_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_key: Mapped[str] = mapped_column(sa.String(600), index=True)
    version: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(sa.String(300), default="")
    activity_iri: Mapped[str] = mapped_column(sa.String(2048))
    match: Mapped[str] = mapped_column(sa.String(10), default="exact")  # exact | prefix
    criterion: Mapped[Criterion] = mapped_column(_enum(Criterion))
    threshold: Mapped[float | None]
    #: [[min scaled score, level], ...] for score_bands and items.
    bands: Mapped[list[list[float]] | None] = mapped_column(sa.JSON)
    #: Question IRIs whose answers count, for the items criterion.
    items: Mapped[list[str] | None] = mapped_column(sa.JSON)
    competency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competency.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(default=1)
    weight: Mapped[float] = mapped_column(default=1.0)
    source: Mapped[EvidenceSource] = mapped_column(_enum(EvidenceSource))
    origin: Mapped[str] = mapped_column(sa.String(20), default="manual")  # course | manual
    course_iri: Mapped[str | None] = mapped_column(sa.String(2048))
    #: Hash of what a course publication derived, to create versions only on change.
    derived_hash: Mapped[str | None] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(default=True)
    effective_from: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))

    competency: Mapped[Competency] = orm.relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("rule_key", "version"),)

    def __repr__(self) -> str:
        return f"<EvidenceRule {self.rule_key} v{self.version}>"


class Evidence(Model):
    """What one statement proved about one employee's competency, under one rule version.

    Derived (rebuildable). Withdrawn rows stay, so the history of a level is visible.
    """

    __tablename__ = "competency_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competency.id", ondelete="CASCADE"), index=True)
    level: Mapped[int]
    weight: Mapped[float]
    source: Mapped[EvidenceSource] = mapped_column(_enum(EvidenceSource))
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_rule.id", ondelete="CASCADE"),
                                         index=True)
    statement_id: Mapped[str] = mapped_column(sa.String(36))
    statement_seq: Mapped[int] = mapped_column(sa.BigInteger)
    activity_iri: Mapped[str] = mapped_column(sa.String(2048))
    #: The statement's timestamp (when the learning happened).
    occurred: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    score: Mapped[float | None]
    withdrawn: Mapped[bool] = mapped_column(default=False)
    #: The voiding statement that withdrew it.
    withdrawn_by: Mapped[str | None] = mapped_column(sa.String(36))

    rule: Mapped[EvidenceRule] = orm.relationship(lazy="joined")
    competency: Mapped[Competency] = orm.relationship(lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("statement_id", "rule_id"),
        sa.Index("ix_competency_evidence_user_competency", "user_id", "competency_id"),
    )


class QuizItemResult(Model):
    """One answer to a quiz question that some rule tags with a competency (derived)."""

    __tablename__ = "competency_quiz_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    quiz_iri: Mapped[str] = mapped_column(sa.String(2048))
    question_iri: Mapped[str] = mapped_column(sa.String(2048))
    registration: Mapped[str] = mapped_column(sa.String(36), default="")
    success: Mapped[bool]
    statement_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    statement_seq: Mapped[int] = mapped_column(sa.BigInteger)
    voided: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        sa.Index("ix_competency_quiz_item_user_seq", "user_id", "statement_seq"),
    )


class UserCompetency(Model):
    """The derived profile: an employee's current level in one competency."""

    __tablename__ = "user_competency"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    competency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competency.id", ondelete="CASCADE"), primary_key=True, index=True)
    level: Mapped[int] = mapped_column(default=0)
    #: Progress toward the next level, in percent (0..100).
    progress: Mapped[int] = mapped_column(default=0)
    evidence_count: Mapped[int] = mapped_column(default=0)
    #: The statement whose evidence brought the current level (None at level 0).
    achieved_statement_id: Mapped[str | None] = mapped_column(sa.String(36))
    achieved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    competency: Mapped[Competency] = orm.relationship(lazy="joined")


class CourseCompetency(Model):
    """A course's competency targets, kept from its publications for recommendations."""

    __tablename__ = "course_competency"

    course_iri: Mapped[str] = mapped_column(sa.String(2048), primary_key=True)
    competency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competency.id", ondelete="CASCADE"), primary_key=True, index=True)
    level: Mapped[int]
    slug: Mapped[str] = mapped_column(sa.String(200))
    title: Mapped[str] = mapped_column(sa.String(300))
    jp: Mapped[float] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)

    competency: Mapped[Competency] = orm.relationship(lazy="joined")


class CoursePublication(Model):
    """The latest ``course_version_published`` payload of each course, kept so its rules
    can be derived again when a framework naming its competencies arrives later."""

    __tablename__ = "competency_course_publication"

    course_iri: Mapped[str] = mapped_column(sa.String(2048), primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
