"""The per-employee, per-year JP summary (:class:`~lms.reports.models.JpSummary`).

The ``jp-credits`` consumer (:class:`lms.reports.training.JpLedger`) keeps it, statement by
statement, inside the transaction that advances its cursor, so each statement counts
exactly once; a replay of that consumer deletes and rebuilds it. It counts:

- every course completion under the courses ledger's rule (the first ``completed``, or
  ``passed`` with ``result.completion``, statement about a Lentera course per person; JP
  of the course version the statement names, else of the course), remembered in
  :class:`~lms.reports.models.JpCourseCredit`;
- every other credited learning, :class:`~lms.reports.models.JpCredit`;
- every course enrolment (the courses module's ``enrollment``), in the year and month it
  was made, and whether the summary counted a completion of that course by that person,
  whenever it came. Enrolments are not statements: :func:`listen` follows them through
  the ORM (an enrolment inserted, deleted or changed recomputes its row in the same
  flush), and the consumer recomputes the enrolment's row when a course completion comes
  or goes, also when the enrolment's year is another than the completion's.

A row is never adjusted by adding and subtracting: whenever one of an employee's records
in a year comes or goes, :func:`refresh` recomputes that (employee, year) row from the
records, in a fixed order. So the table always equals :func:`recompute` over the same
records, to the last bit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from lms.courses.models import Enrollment
from lms.db import get_session
from lms.reports.models import (
    MONTHS,
    JpCourseCredit,
    JpCredit,
    jp_summary_table,
    month_count,
    month_enrolled,
    month_enrolled_completed,
    month_jp,
)

LOCAL_TZ = ZoneInfo("Asia/Jakarta")
enrollment = Enrollment.__table__
#: First key of the advisory lock that serialises recomputing one employee's rows.
LOCK_NAMESPACE = 0x4A50  # "JP"
#: Summed JP are rounded to this many decimals (so float noise cannot creep in).
DECIMALS = 6


def local_year_month(when: dt.datetime) -> tuple[int, int]:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    local = when.astimezone(LOCAL_TZ)
    return local.year, local.month


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The local calendar year as UTC instants [start, end)."""
    start = dt.datetime(year, 1, 1, tzinfo=LOCAL_TZ).astimezone(dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=LOCAL_TZ).astimezone(dt.UTC)
    return start, end


#: One enrolment of a summary row: (enrolled_at, whether the course was completed).
Enrolment = tuple[dt.datetime, bool]


def _row(user_id: int, year: int, records: Iterable[tuple[float, dt.datetime, str]],
         enrolments: Iterable[Enrolment] = ()) -> dict[str, Any] | None:
    """The summary row of ``records`` ((jp, completed_at, statement id) of one employee in
    one year) and ``enrolments`` ((enrolled_at, completed) of the course enrolments they
    made in that year), or None when there are neither. Sums in a fixed order."""
    ordered = sorted(records, key=lambda r: (r[2], r[1]))
    enrolments = list(enrolments)
    if not ordered and not enrolments:
        return None
    row: dict[str, Any] = {"user_id": user_id, "year": year, "jp": 0.0, "completions": 0,
                           "enrolled": 0, "enrolled_completed": 0}
    for month in MONTHS:
        row[month_jp(month)] = 0.0
        row[month_count(month)] = 0
        row[month_enrolled(month)] = 0
        row[month_enrolled_completed(month)] = 0
    for jp, when, _statement_id in ordered:
        _year, month = local_year_month(when)
        row["jp"] += float(jp)
        row["completions"] += 1
        row[month_jp(month)] += float(jp)
        row[month_count(month)] += 1
    for when, completed in enrolments:
        _year, month = local_year_month(when)
        row["enrolled"] += 1
        row[month_enrolled(month)] += 1
        if completed:
            row["enrolled_completed"] += 1
            row[month_enrolled_completed(month)] += 1
    for key in ["jp", *(month_jp(m) for m in MONTHS)]:
        row[key] = round(row[key], DECIMALS)
    return row


def _enrolments() -> sa.Select:
    """``user_id, enrolled_at, completed`` of every course enrolment; ``completed`` when the
    summary counted a completion of that course by that person (whenever it came)."""
    credited = sa.exists().where(JpCourseCredit.user_id == enrollment.c.user_id,
                                 JpCourseCredit.course_id == enrollment.c.course_id)
    return sa.select(enrollment.c.user_id, enrollment.c.enrolled_at,
                     credited.label("completed"))


def _records_of(executor: Any, user_id: int, year: int
                ) -> tuple[list[tuple[float, dt.datetime, str]], list[Enrolment]]:
    start, end = year_bounds(year)
    out: list[tuple[float, dt.datetime, str]] = []
    for model in (JpCourseCredit, JpCredit):
        out.extend((jp, when, sid) for jp, when, sid in executor.execute(
            sa.select(model.jp, model.completed_at, model.statement_id).where(
                model.user_id == user_id, model.completed_at >= start,
                model.completed_at < end)))
    enrolments = [(when, bool(completed)) for _user, when, completed in executor.execute(
        _enrolments().where(enrollment.c.user_id == user_id,
                            enrollment.c.enrolled_at >= start,
                            enrollment.c.enrolled_at < end))]
    return out, enrolments


def refresh(user_id: int, year: int, *, connection: Any = None) -> None:
    """Recompute the summary row of ``user_id`` in ``year`` from their records and
    enrolments (flushes pending ORM writes first so they are counted). Inside a flush (an
    enrolment hook), pass the flush's ``connection`` instead."""
    executor = connection
    if executor is None:
        executor = get_session()
        executor.flush()
    dialect = connection.dialect if connection is not None else executor.get_bind().dialect
    if dialect.name == "postgresql":
        # Two transactions may recompute the same employee's row at once (a learner
        # enrolling while the consumer counts a completion of theirs): the second waits
        # for the first to commit, then reads what it wrote.
        executor.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_NAMESPACE, user_id)))
    table = jp_summary_table
    executor.execute(sa.delete(table).where(table.c.user_id == user_id, table.c.year == year))
    row = _row(user_id, year, *_records_of(executor, user_id, year))
    if row is not None:
        executor.execute(sa.insert(table), [row])


def refresh_enrolment(user_id: int, course_id: int, *, except_year: int | None = None
                      ) -> None:
    """Recompute the row of the year ``user_id`` enrolled in ``course_id`` (when they did),
    because a completion of that course came or went. ``except_year``: a row already
    recomputed."""
    session = get_session()
    session.flush()
    when = session.scalar(sa.select(enrollment.c.enrolled_at).where(
        enrollment.c.user_id == user_id, enrollment.c.course_id == course_id))
    if when is None:
        return
    year = local_year_month(when)[0]
    if year != except_year:
        refresh(user_id, year)


def recompute() -> dict[tuple[int, int], dict[str, Any]]:
    """The whole summary computed afresh from the records, keyed by (user id, year)."""
    session = get_session()
    grouped: dict[tuple[int, int], list[tuple[float, dt.datetime, str]]] = {}
    for model in (JpCourseCredit, JpCredit):
        for jp, when, statement_id, user_id in session.execute(
                sa.select(model.jp, model.completed_at, model.statement_id, model.user_id)):
            year, _month = local_year_month(when)
            grouped.setdefault((user_id, year), []).append((jp, when, statement_id))
    enrolled: dict[tuple[int, int], list[Enrolment]] = {}
    for user_id, when, completed in session.execute(_enrolments()):
        year, _month = local_year_month(when)
        enrolled.setdefault((user_id, year), []).append((when, bool(completed)))
    out = {}
    for user_id, year in set(grouped) | set(enrolled):
        row = _row(user_id, year, grouped.get((user_id, year), ()),
                   enrolled.get((user_id, year), ()))
        if row is not None:
            out[(user_id, year)] = row
    return out


def fill_enrolments() -> None:
    """After :func:`delete_all` (a replay of ``jp-credits``): the rows of the employees'
    enrolments, before any completion is counted again. Enrolments are not statements, so
    the replay would not bring back the rows of a year with enrolments but no learning.
    Rows are written 5,000 at a time (a Pemda has 100,000s of enrolments)."""
    session = get_session()
    session.flush()
    enrolled: dict[tuple[int, int], list[Enrolment]] = {}
    for user_id, when, completed in session.execute(_enrolments()):
        year, _month = local_year_month(when)
        enrolled.setdefault((user_id, year), []).append((when, bool(completed)))
    batch = []
    for (user_id, year), enrolments in enrolled.items():
        batch.append(_row(user_id, year, (), enrolments))
        if len(batch) >= 5000:
            session.execute(sa.insert(jp_summary_table), batch)
            batch = []
    if batch:
        session.execute(sa.insert(jp_summary_table), batch)


def stored() -> dict[tuple[int, int], dict[str, Any]]:
    """The summary table as it is, keyed like :func:`recompute`."""
    rows = get_session().execute(sa.select(jp_summary_table)).mappings()
    return {(r["user_id"], r["year"]): dict(r) for r in rows}


def differences() -> list[str]:
    """How the stored summary differs from :func:`recompute` (empty: equal)."""
    fresh, kept = recompute(), stored()
    out = []
    for key in sorted(set(fresh) | set(kept)):
        if fresh.get(key) != kept.get(key):
            out.append(f"user {key[0]}, {key[1]}: stored {kept.get(key)}, "
                       f"recomputed {fresh.get(key)}")
    return out


# --- enrolments ------------------------------------------------------------------------------
# The courses module writes enrolments itself (no statement, no signal), so the summary
# follows them through the ORM: every enrolment inserted, deleted or moved to another user
# or time recomputes the rows of the years concerned, in the same flush.


def _enrolment_keys(target: Any) -> set[tuple[int, int]]:
    """(user id, year) of an enrolment before and after a change."""
    keys = set()
    state = sa.inspect(target)
    user_ids = {v for v in (*state.attrs.user_id.history.deleted, target.user_id)
                if v is not None}
    times = {v for v in (*state.attrs.enrolled_at.history.deleted, target.enrolled_at)
             if v is not None}
    for user_id in user_ids:
        for when in times:
            keys.add((user_id, local_year_month(when)[0]))
    return keys


def _after_insert(_mapper: Any, connection: Any, target: Any) -> None:
    if target.user_id is not None and target.enrolled_at is not None:
        refresh(target.user_id, local_year_month(target.enrolled_at)[0],
                connection=connection)


def _after_update(_mapper: Any, connection: Any, target: Any) -> None:
    state = sa.inspect(target)
    if not (state.attrs.user_id.history.has_changes()
            or state.attrs.enrolled_at.history.has_changes()
            or state.attrs.course_id.history.has_changes()):
        return
    for user_id, year in _enrolment_keys(target):
        refresh(user_id, year, connection=connection)


def _after_delete(_mapper: Any, connection: Any, target: Any) -> None:
    _after_insert(_mapper, connection, target)


def listen() -> None:
    """Follow the courses module's enrolments (once per process)."""
    for name, handler in (("after_insert", _after_insert), ("after_update", _after_update),
                          ("after_delete", _after_delete)):
        if not sa.event.contains(Enrollment, name, handler):
            sa.event.listen(Enrollment, name, handler)


def delete_all() -> None:
    session = get_session()
    session.execute(sa.delete(jp_summary_table))
    session.execute(sa.delete(JpCourseCredit))
