"""Forwarding targets (statements out), pull sources (statements in), and the dead letters
of both."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow


class _Password:
    """``row.password``: decrypted on read, encrypted on write (never stored plain)."""

    @property
    def password(self) -> str:
        from lms.forwarding.secrets import decrypt

        return decrypt(self.password_token)  # type: ignore[attr-defined]

    @password.setter
    def password(self, value: str) -> None:
        from lms.forwarding.secrets import encrypt

        self.password_token = encrypt(value or "")  # type: ignore[attr-defined]


class ForwardTarget(_Password, Model):
    """An external LRS that receives a copy of the statements stored here.

    ``last_seq`` is the target's cursor over ``xapi_statement.seq``: it advances only after
    the target accepted a batch (or the batch's rejected statements went to the dead
    letters), so a restart resumes where delivery stopped and loses nothing. A re-sent
    batch is harmless: an LRS answers a statement id it holds with the same content as a
    no-op.
    """

    __tablename__ = "forwarding_target"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    endpoint: Mapped[str] = mapped_column(sa.String(1000))
    username: Mapped[str] = mapped_column(sa.String(500))
    #: The HTTP Basic password, encrypted (lms.forwarding.secrets); use ``password``.
    password_token: Mapped[str] = mapped_column(sa.Text, default="")
    version: Mapped[str] = mapped_column(sa.String(10), default="1.0.3")
    #: Only these verb IRIs (empty: every verb).
    verbs: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Only statements whose object id starts with one of these (empty: every object).
    activity_prefixes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    last_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    delivered: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    failures: Mapped[int] = mapped_column(default=0)
    next_attempt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_success: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: A delivery lease: one process at a time sends a target's statements, in order.
    lease_owner: Mapped[str | None] = mapped_column(sa.String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PullSource(_Password, Model):
    """An external LRS whose statements are fetched (``GET statements?since=``) and stored
    here, e.g. a Pemda's Moodle with logstore_xapi."""

    __tablename__ = "forwarding_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    endpoint: Mapped[str] = mapped_column(sa.String(1000))
    username: Mapped[str] = mapped_column(sa.String(500))
    #: The HTTP Basic password, encrypted (lms.forwarding.secrets); use ``password``.
    password_token: Mapped[str] = mapped_column(sa.Text, default="")
    version: Mapped[str] = mapped_column(sa.String(10), default="1.0.3")
    #: The ``stored`` time (ISO 8601, as the source wrote it) everything up to which is here.
    since: Mapped[str | None] = mapped_column(sa.String(64))
    interval_seconds: Mapped[int] = mapped_column(default=300)
    enabled: Mapped[bool] = mapped_column(default=True)
    pulled: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    next_run: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_run: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DeadLetter(Model):
    """A statement a target rejected for good (4xx), or a pulled one this LRS refused."""

    __tablename__ = "forwarding_dead_letter"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("forwarding_target.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("forwarding_source.id", ondelete="CASCADE"), index=True)
    statement_id: Mapped[str] = mapped_column(sa.String(36))
    statement: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[int | None]
    error: Mapped[str] = mapped_column(sa.Text)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
