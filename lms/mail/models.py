"""The e-mail outbox: one row per message, written in the caller's transaction; and the
kinds of e-mail each person turned off."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow

QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
STATUSES = (QUEUED, SENDING, SENT, FAILED)


class OutboxMessage(Model):
    """A message waiting to be sent, being sent, sent, or given up on.

    A sender claims a row by switching it from ``queued`` to ``sending`` with a lease (a
    compare-and-set UPDATE), so the CLI, a Celery worker and the in-process sender never
    send the same message twice at the same time; a row whose lease ran out (a killed
    sender) is claimed again.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (sa.Index("ix_mail_outbox_status_next", "status", "next_attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(sa.String(254))
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(sa.String(300))
    text: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str | None] = mapped_column(sa.Text)
    category: Mapped[str] = mapped_column(sa.String(50), default="general", index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    #: Not before this time (backoff after a failure); None: as soon as possible.
    next_attempt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Set by senders that must not mail twice about one thing (``certificate:<number>``):
    #: a second message with the same key is not queued.
    key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)


class MailOptOut(Model):
    """A kind of e-mail (a registered category) one person turned off."""

    __tablename__ = "mail_opt_out"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
