"""Authoring records: who may change a course, what they changed, and cmi5 packages.

The draft itself is not in the database: it is a course folder in the courses/ format
under ``UPLOAD_DIR/authoring/drafts/<slug>/`` (see :mod:`lms.authoring.drafts`), so that
publishing is the courses loader plus a new course version.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow


class AuthoredCourse(Model):
    """A course trainers edit in the browser (drafted, published, or archived)."""

    __tablename__ = "authoring_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    #: "course" (the courses/ format) or "cmi5" (an imported cmi5 package).
    kind: Mapped[str] = mapped_column(sa.String(10), default="course")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    trainers: Mapped[list[CourseTrainer]] = orm.relationship(
        back_populates="course", cascade="all, delete-orphan"
    )


class CourseTrainer(Model):
    """A trainer (owner or co-trainer) of an authored course."""

    __tablename__ = "authoring_trainer"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("authoring_course.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    course: Mapped[AuthoredCourse] = orm.relationship(back_populates="trainers")

    __table_args__ = (sa.UniqueConstraint("course_id", "user_id"),)


class CourseChange(Model):
    """One recorded change: who did what to which course, and when."""

    __tablename__ = "authoring_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("authoring_course.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(sa.String(40))
    detail: Mapped[str] = mapped_column(sa.Text, default="")


class Cmi5Package(Model):
    """An imported cmi5 package: its course structure and where its files are kept."""

    __tablename__ = "cmi5_package"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), index=True)
    #: The cmi5 course id (an IRI from cmi5.xml).
    course_iri: Mapped[str] = mapped_column(sa.String(2048))
    #: {"title", "blocks": [{"id", "title", "aus": [au ids]}], "aus": [{...}]}
    structure: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    folder: Mapped[str] = mapped_column(sa.String(80))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Cmi5Au(Model):
    """One assignable unit of a package, indexed by its activity IRI for the consumer."""

    __tablename__ = "cmi5_au"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cmi5_package.id", ondelete="CASCADE"), index=True
    )
    au_iri: Mapped[str] = mapped_column(sa.String(2048))
    module_id: Mapped[str] = mapped_column(sa.String(64))
    move_on: Mapped[str] = mapped_column(sa.String(30), default="NotApplicable")


class Cmi5Launch(Model):
    """A launch of an AU: its session, and the one-time token behind the fetch URL."""

    __tablename__ = "cmi5_launch"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    session_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    au_id: Mapped[int] = mapped_column(sa.ForeignKey("cmi5_au.id", ondelete="CASCADE"))
    registration: Mapped[str] = mapped_column(sa.String(36), index=True)
    launched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: cmi5 launchMode of this session: Normal, Browse or Review.
    launch_mode: Mapped[str] = mapped_column(sa.String(10), default="Normal",
                                             server_default="Normal")
    #: How the session ended: "terminated" (when the AU says so) or "abandoned" (found at
    #: the next launch); and when. Statements for an ended session are refused (cmi5
    #: §9.3.6, §9.3.8; :func:`lms.authoring.cmi5.check_session_statement`).
    ended: Mapped[str | None] = mapped_column(sa.String(12))
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Cmi5Status(Model):
    """Derived from statements (the cmi5 consumer): an AU's outcome in one registration."""

    __tablename__ = "cmi5_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration: Mapped[str] = mapped_column(sa.String(36))
    au_id: Mapped[int] = mapped_column(sa.ForeignKey("cmi5_au.id", ondelete="CASCADE"))
    completed: Mapped[bool] = mapped_column(default=False)
    passed: Mapped[bool] = mapped_column(default=False)
    satisfied: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (sa.UniqueConstraint("registration", "au_id"),)
