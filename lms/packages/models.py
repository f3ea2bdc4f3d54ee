"""SCORM packages: what was imported, their launchable items, launches and outcomes.

The package's files live under ``UPLOAD_DIR/packages/<folder>/`` (an unguessable folder
name); its course is an ordinary course (lms.courses) whose modules are the package's
launchable items (module kind ``scorm``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow


class ScormPackage(Model):
    """One imported SCORM zip: a version of the course ``slug``."""

    __tablename__ = "scorm_package"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), index=True)
    folder: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: "1.2" or "2004"; the 2004 edition ("2nd", "3rd", "4th" or "" when not stated).
    version: Mapped[str] = mapped_column(sa.String(8))
    edition: Mapped[str] = mapped_column(sa.String(8), default="")
    manifest_id: Mapped[str] = mapped_column(sa.String(200))
    #: lms.packages.manifest.Manifest.as_dict()
    structure: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScormSco(Model):
    """A launchable item of a package (a module of its course), by activity IRI."""

    __tablename__ = "scorm_sco"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        sa.ForeignKey("scorm_package.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[str] = mapped_column(sa.String(40))
    item_id: Mapped[str] = mapped_column(sa.String(200))
    sco_iri: Mapped[str] = mapped_column(sa.String(600), index=True)


class ScormLaunch(Model):
    """A launch of a SCO: its attempt and the token its content is served under."""

    __tablename__ = "scorm_launch"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         index=True)
    sco_id: Mapped[int] = mapped_column(sa.ForeignKey("scorm_sco.id", ondelete="CASCADE"))
    registration: Mapped[str] = mapped_column(sa.String(36), index=True)
    attempt_iri: Mapped[str] = mapped_column(sa.String(700))
    session_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    #: The runtime data the SCO starts with (flattened CMI), given to its frame.
    initial: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    launched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScormStatus(Model):
    """Derived from statements (the packages consumer): a SCO's outcome in a registration."""

    __tablename__ = "scorm_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration: Mapped[str] = mapped_column(sa.String(36))
    sco_id: Mapped[int] = mapped_column(sa.ForeignKey("scorm_sco.id", ondelete="CASCADE"))
    completed: Mapped[bool] = mapped_column(default=False)
    passed: Mapped[bool] = mapped_column(default=False)
    failed: Mapped[bool] = mapped_column(default=False)
    satisfied: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (sa.UniqueConstraint("registration", "sco_id"),)
