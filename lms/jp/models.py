"""Tables of the JP module: learning employees submit (and its verification chain), the
JP conversion table HR keeps, and what was sent to SIASN."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Model, UTCDateTime, utcnow


class SubmissionStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # waiting for the supervisor
    CONFIRMED = "confirmed"  # the supervisor confirmed: waiting for HR
    VERIFIED = "verified"  # HR verified: counts
    RETURNED = "returned"  # sent back with a reason (by the supervisor or HR)
    VOIDED = "voided"  # HR took a verified record back

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])

    @property
    def pending(self) -> bool:
        return self in (SubmissionStatus.SUBMITTED, SubmissionStatus.CONFIRMED)


STATUS_LABELS = {
    SubmissionStatus.SUBMITTED: _l("Waiting for the supervisor"),
    SubmissionStatus.CONFIRMED: _l("Waiting for HR"),
    SubmissionStatus.VERIFIED: _l("Verified"),
    SubmissionStatus.RETURNED: _l("Returned"),
    SubmissionStatus.VOIDED: _l("Voided"),
}


def _enum(cls: type[enum.Enum]) -> sa.Enum:
    return sa.Enum(cls, native_enum=False, length=20,
                   values_callable=lambda e: [m.value for m in e])


class JpSubmission(Model):
    """Learning an employee did elsewhere, submitted for JP. It counts only once HR
    verified it: HR's verification stores a ``completed`` statement with the JP extension,
    and the ``jp-credits`` consumer credits it like any other learning."""

    __tablename__ = "jp_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    #: The national development type (SIASN jenisDiklatId, 1..25).
    type_id: Mapped[int] = mapped_column(sa.Integer)
    provider: Mapped[str] = mapped_column(sa.String(300))
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    end_date: Mapped[dt.date] = mapped_column(sa.Date)
    #: Hours of learning the employee gave (60-minute hours), or None when JP were given.
    hours: Mapped[float | None] = mapped_column(sa.Float)
    #: JP written on the certificate, when the employee gave JP rather than hours.
    jp_claimed: Mapped[float | None] = mapped_column(sa.Float)
    #: JP by the rules in force at the learning's end date (recomputed when verified).
    jp: Mapped[float] = mapped_column(sa.Float)
    #: How ``jp`` was found (for the employee and HR to read).
    conversion: Mapped[str] = mapped_column(sa.String(300), default="")
    certificate_number: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    certificate_url: Mapped[str | None] = mapped_column(sa.String(1000))
    #: Stored file name under UPLOAD_DIR/jp/<id>/.
    certificate_file: Mapped[str | None] = mapped_column(sa.String(200))
    #: [{"code": "M.03", "level": 2}, ...]
    competencies: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    #: Normalised title + dates: two submissions of one event by one employee clash.
    event_key: Mapped[str] = mapped_column(sa.String(400), index=True)
    status: Mapped[SubmissionStatus] = mapped_column(_enum(SubmissionStatus),
                                                     default=SubmissionStatus.SUBMITTED)
    return_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    #: The ``completed`` statement of HR's verification (what the JP ledger credits).
    statement_id: Mapped[str | None] = mapped_column(sa.String(36), unique=True)

    __table_args__ = (sa.Index("ix_jp_submission_status_submitted", "status", "submitted_at"),)


class JpSubmissionStep(Model):
    """One step of a submission's chain and the statement that records it."""

    __tablename__ = "jp_submission_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("jp_submission.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(sa.String(20))
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    by_name: Mapped[str] = mapped_column(sa.String(200), default="")
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    statement_id: Mapped[str] = mapped_column(sa.String(36))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JpConversion(Model):
    """One line of the JP conversion table: how learning of a non-classroom development
    type becomes JP from the date it took effect. ``factor`` multiplies the learning's
    JP by time (hours x 60 / 45); ``jp_per_activity``, when set, gives a fixed JP per
    activity instead. The line in force for a learning is the newest whose
    ``effective_from`` is on or before the learning's end date."""

    __tablename__ = "jp_conversion"

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(sa.Integer)
    effective_from: Mapped[dt.date] = mapped_column(sa.Date)
    factor: Mapped[float] = mapped_column(sa.Float, default=1.0)
    jp_per_activity: Mapped[float | None] = mapped_column(sa.Float)
    #: The rule's source (a regulation and article), for whoever checks it.
    source: Mapped[str] = mapped_column(sa.String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("type_id", "effective_from"),)


class SiasnPush(Model):
    """One verified record sent to SIASN: what was sent, SIASN's id for it, the upload of
    its document. A row is written (and committed) before the record is sent, so a
    restart finds it and never sends the record twice (see lms.jp.siasn)."""

    __tablename__ = "jp_siasn_push"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``submission:<id>`` or ``credit:<statement id>``: one push per verified record.
    record_key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    #: pending, saved (SIASN has it, document to upload), done, failed
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    siasn_id: Mapped[str | None] = mapped_column(sa.String(100))
    document_uploaded: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
