"""Catalog and learning records: courses and their versions, enrolments, and the progress,
completions and certificates derived from xAPI statements by :mod:`lms.courses.ledger`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow


class Course(Model):
    """A course in the catalog. Its content lives in immutable :class:`CourseVersion` rows;
    the columns here repeat the current version's catalog fields for search and filters."""

    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    topic: Mapped[str] = mapped_column(sa.String(100), default="", index=True)
    level: Mapped[str] = mapped_column(sa.String(20), default="dasar")
    language: Mapped[str] = mapped_column(sa.String(10), default="id")
    jp: Mapped[float] = mapped_column(sa.Float, default=0)
    #: [{"code": "M.05", "level": 2}, ...]
    competencies: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    #: Space-separated competency codes, for a simple indexed-free LIKE filter.
    competency_codes: Mapped[str] = mapped_column(sa.String(300), default="")
    published: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    #: The current version's cover image (a path among its files; "" for none) and its alt.
    cover: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    cover_alt: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    versions: Mapped[list[CourseVersion]] = orm.relationship(
        back_populates="course", order_by="CourseVersion.number", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Course {self.slug} v{self.version}>"


class CourseVersion(Model):
    """One imported version of a course: its whole checked definition, never changed."""

    __tablename__ = "course_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    #: course.yaml fields plus "modules" (lessons with their Markdown, quizzes with keys).
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    source: Mapped[str] = mapped_column(sa.String(500), default="")
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    course: Mapped[Course] = orm.relationship(back_populates="versions")

    __table_args__ = (sa.UniqueConstraint("course_id", "number"),)


class Enrollment(Model):
    """A learner enrolled in a course; ``registration`` is the xAPI registration UUID."""

    __tablename__ = "enrollment"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    registration: Mapped[str] = mapped_column(sa.String(36), unique=True)
    enrolled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The version (number) this learner follows: the newest when they enrolled, changed
    #: only when they choose to move to a newer one. None: the newest (older rows).
    course_version: Mapped[int | None] = mapped_column()
    #: When the learner last moved to a newer version (None: never).
    version_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    course: Mapped[Course] = orm.relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("user_id", "course_id"),)


class CourseProgress(Model):
    """Derived from statements: how far a learner is in a course, and where to resume."""

    __tablename__ = "course_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    registration: Mapped[str | None] = mapped_column(sa.String(36))
    progress: Mapped[float] = mapped_column(sa.Float, default=0)
    last_module_id: Mapped[str | None] = mapped_column(sa.String(64))
    last_activity_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.UniqueConstraint("user_id", "course_id"),)


class ModuleProgress(Model):
    """Derived from statements: one module (lesson or quiz) of a course for one learner."""

    __tablename__ = "module_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"))
    module_id: Mapped[str] = mapped_column(sa.String(64))
    experienced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    passed: Mapped[bool] = mapped_column(default=False)
    best_scaled: Mapped[float | None] = mapped_column(sa.Float)
    #: The statement that completed or passed it (withdrawn when that statement is voided).
    statement_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)

    __table_args__ = (sa.UniqueConstraint("user_id", "course_id", "module_id"),)


class Completion(Model):
    """Derived from a ``completed`` statement for a course: JP earned and the certificate."""

    __tablename__ = "completion"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    course_version: Mapped[int]
    course_title: Mapped[str] = mapped_column(sa.String(200))
    jp: Mapped[float] = mapped_column(sa.Float)
    competencies: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    registration: Mapped[str | None] = mapped_column(sa.String(36))
    statement_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    certificate_number: Mapped[str] = mapped_column(sa.String(40), unique=True)

    course: Mapped[Course] = orm.relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("user_id", "course_id"),)


class CertificateIssuer(Model):
    """Who issues the certificates of one Pemda (a root org unit), or of the whole
    installation (``org_unit_id`` None): the agency, its logo and the signatory. Settings
    (``CERTIFICATE_*``) fill in what no row says."""

    __tablename__ = "certificate_issuer"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("org_unit.id", ondelete="CASCADE"), unique=True)
    #: "Pemerintah Kabupaten Sukamaju"
    issuer_name: Mapped[str] = mapped_column(sa.String(200), default="")
    #: "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia"
    agency_name: Mapped[str] = mapped_column(sa.String(200), default="")
    signatory_name: Mapped[str] = mapped_column(sa.String(200), default="")
    signatory_nip: Mapped[str] = mapped_column(sa.String(18), default="")
    signatory_title: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Where the certificate is signed ("Sukamaju"), printed before the date.
    place: Mapped[str] = mapped_column(sa.String(100), default="")
    #: File name of the logo (a PNG re-encoded on upload) under UPLOAD_DIR/certificates/.
    logo: Mapped[str | None] = mapped_column(sa.String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
