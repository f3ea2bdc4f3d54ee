"""The ``job`` table: one row per background job (see :mod:`lms.jobs`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow

JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED = "queued", "running", "done", "failed"
JOB_STATUSES = (JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED)
#: session.info key: (app, [job ids]) to start after the commit.
#: The after-commit kind of a queued job (lms.db.after_commit; the item is its id).
JOBS_KIND = "jobs"


class Job(Model):
    """A background job: what to run (``kind``, ``params``), for whom, and how far it is."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(100))
    #: Who submitted it: only they (and admins) see its status and download its file.
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=JOB_QUEUED)
    progress: Mapped[int] = mapped_column(default=0)
    #: The last progress message, or why the job failed (in the submitter's language).
    message: Mapped[str | None] = mapped_column(sa.Text)
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: The submitter's UI language: the job runs under it (file contents, messages).
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    #: The file the job wrote, relative to the instance folder.
    result_path: Mapped[str | None] = mapped_column(sa.String(500))
    result_name: Mapped[str | None] = mapped_column(sa.String(255))
    attempts: Mapped[int] = mapped_column(default=0)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: The heartbeat: set when the job is claimed and at every progress report.
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def folder(self, app: Flask | None = None) -> Path:
        """``<instance>/jobs/<id>/``: where this job's files go."""
        app = app or current_app._get_current_object()  # type: ignore[attr-defined]
        return Path(app.instance_path) / "jobs" / str(self.id)

    def output(self, filename: str) -> Path:
        """The path to write the result file ``filename`` to (its folder is created)."""
        name = Path(filename).name
        if not name or name in (".", ".."):
            raise ValueError(f"bad result file name {filename!r}")
        folder = self.folder()
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name
