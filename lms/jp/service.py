"""The one answer to "how many JP has employee X in year Y, and from what".

Every page, PDF, export and API of Lentera that shows an employee's JP asks this module:
the learner's home page and Riwayat Belajar (page and PDF), HR's employee record and its
PDF, the yearly JP statement, the API. HR-wide reports aggregate the same source
definition (:mod:`lms.jp.sources`) in SQL, or the per-year summary the ``jp-credits``
consumer keeps of exactly those records.

- :func:`jp_total` — JP that count in a year: one row of the summary, so its cost does not
  grow with the employee's number of records (bench/jp_summary.py).
- :func:`items` — the records behind it (verified), and :func:`pending` — submitted
  learning not verified yet (shown, never counted).
- :func:`statement` — both, with the 10:20:70 mix, for the yearly statement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from lms.db import get_session, utcnow
from lms.jp import kinds
from lms.jp.sources import credited_records
from lms.people.models import User
from lms.reports.models import jp_summary_table
from lms.reports.summary import DECIMALS, year_bounds

LOCAL_TZ = ZoneInfo("Asia/Jakarta")
#: Every PNS has the right to at least 20 JP a year (PP 11/2017 art. 203(4), as amended
#: by PP 17/2020).
JP_TARGET = 20

VERIFIED = "verified"
PENDING = "pending"
RETURNED = "returned"


def this_year() -> int:
    return utcnow().astimezone(LOCAL_TZ).year


def local_year(when: dt.datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(LOCAL_TZ).year


def _user_id(user: User | int) -> int:
    return user if isinstance(user, int) else user.id


@dataclass
class JpItem:
    """One source of JP: what, when, how many, and whether it counts yet."""

    source: str  # course | training | submission | external
    title: str
    kind: str
    provider: str
    completed_at: dt.datetime
    jp: float
    status: str  # verified | pending | returned
    certificate_number: str = "–"
    statement_id: str | None = None
    submission_id: int | None = None

    # The transcript PDF and templates of the courses module read these names.
    @property
    def course_title(self) -> str:
        return self.title

    @property
    def counts(self) -> bool:
        return self.status == VERIFIED

    @property
    def route(self) -> int:
        return kinds.route_of_kind(self.kind)


def _source_of(kind: str, iri: str) -> str:
    if kind == "course":
        return "course"
    base = str(current_app.config["BASE_URL"])
    if iri.startswith(f"{base}/training/"):
        return "training"
    if iri.startswith(f"{base}/jp/submissions/"):
        return "submission"
    return "external"


def jp_total(user: User | int, year: int) -> float:
    """JP that count for ``user`` in local calendar ``year``: one summary row."""
    table = jp_summary_table
    value = get_session().scalar(sa.select(table.c.jp).where(
        table.c.user_id == _user_id(user), table.c.year == year))
    return round(float(value or 0.0), DECIMALS)


def jp_by_year(user: User | int) -> dict[int, float]:
    """JP per local calendar year with any JP, newest first."""
    table = jp_summary_table
    rows = get_session().execute(
        sa.select(table.c.year, table.c.jp).where(
            table.c.user_id == _user_id(user), table.c.completions > 0)
        .order_by(table.c.year.desc()))
    return {int(year): round(float(jp), DECIMALS) for year, jp in rows}


def items(user: User | int, year: int | None = None) -> list[JpItem]:
    """The verified records (newest first), of ``year`` or of every year."""
    records = credited_records()
    query = sa.select(records).where(records.c.user_id == _user_id(user))
    if year is not None:
        start, end = year_bounds(year)
        query = query.where(records.c.completed_at >= start, records.c.completed_at < end)
    out = []
    for r in get_session().execute(query.order_by(records.c.completed_at.desc(),
                                                  records.c.statement_id)):
        when = r.completed_at if r.completed_at.tzinfo else r.completed_at.replace(
            tzinfo=dt.UTC)
        source = _source_of(r.kind, r.activity_iri or "")
        submission_id = None
        if source == "submission":
            tail = (r.activity_iri or "").rsplit("/", 1)[-1]
            submission_id = int(tail) if tail.isdigit() else None
        out.append(JpItem(source=source, title=r.title, kind=r.kind, provider=r.provider,
                          completed_at=when, jp=float(r.jp), status=VERIFIED,
                          certificate_number=r.certificate or "–",
                          statement_id=r.statement_id, submission_id=submission_id))
    return out


def pending(user: User | int, year: int | None = None) -> list[JpItem]:
    """Submitted learning not verified (waiting or returned), newest first: shown on the
    statement, never counted."""
    from lms.jp.models import JpSubmission, SubmissionStatus

    query = sa.select(JpSubmission).where(
        JpSubmission.user_id == _user_id(user),
        JpSubmission.status.in_([SubmissionStatus.SUBMITTED, SubmissionStatus.CONFIRMED,
                                 SubmissionStatus.RETURNED]))
    if year is not None:
        query = query.where(JpSubmission.end_date >= dt.date(year, 1, 1),
                            JpSubmission.end_date <= dt.date(year, 12, 31))
    out = []
    for s in get_session().scalars(query.order_by(JpSubmission.end_date.desc(),
                                                  JpSubmission.id.desc())):
        when = dt.datetime.combine(s.end_date, dt.time(16, 0), LOCAL_TZ)
        status = RETURNED if s.status == SubmissionStatus.RETURNED else PENDING
        out.append(JpItem(source="submission", title=s.title, kind=kinds.kind_value(s.type_id),
                          provider=s.provider, completed_at=when, jp=s.jp, status=status,
                          certificate_number=s.certificate_number or "–",
                          submission_id=s.id))
    return out


@dataclass
class JpSummary:
    """The figures of one employee's year (no records: constant cost)."""

    year: int
    jp: float
    target: int = JP_TARGET

    @property
    def met(self) -> bool:
        return self.jp >= self.target

    @property
    def remaining(self) -> float:
        return max(0.0, self.target - self.jp)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.jp / self.target)) if self.target else 100


def summary(user: User | int, year: int | None = None) -> JpSummary:
    year = this_year() if year is None else year
    return JpSummary(year=year, jp=jp_total(user, year))


@dataclass
class JpStatement:
    user: User
    year: int
    jp: float
    target: int
    items: list[JpItem]
    pending: list[JpItem]
    mix: dict[int, float] = field(default_factory=dict)

    @property
    def met(self) -> bool:
        return self.jp >= self.target

    @property
    def pending_jp(self) -> float:
        return sum(i.jp for i in self.pending if i.status == PENDING)

    def mix_percent(self) -> dict[int, int]:
        total = sum(self.mix.values())
        return {route: round(100 * jp / total) if total else 0 for route, jp in self.mix.items()}


def mix_of(records: list[JpItem]) -> dict[int, float]:
    """JP per 10:20:70 route of verified records."""
    mix = {10: 0.0, 20: 0.0, 70: 0.0}
    for item in records:
        if item.counts:
            mix[item.route] = mix.get(item.route, 0.0) + item.jp
    return mix


def statement(user: User, year: int | None = None) -> JpStatement:
    """The yearly JP statement: the total, every verified source, every pending one."""
    year = this_year() if year is None else year
    verified = items(user, year)
    return JpStatement(user=user, year=year, jp=jp_total(user, year), target=JP_TARGET,
                       items=verified, pending=pending(user, year), mix=mix_of(verified))


def transcript(user: User) -> dict[str, Any]:
    """The learning history (Riwayat Belajar) with every kind of learning: records of every
    year, JP per year, the year's target. The shape the transcript page and PDF render."""
    return {
        "user": user,
        "completions": items(user),
        "pending": pending(user),
        "jp_by_year": jp_by_year(user),
        "target": JP_TARGET,
        "this_year": this_year(),
    }
