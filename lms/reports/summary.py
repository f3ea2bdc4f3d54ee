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

Each record that comes or goes adjusts its (employee, year) row by its own share
(:func:`adjust`): one row read and written, whatever the employee's number of records, so
the cost of crediting does not grow with an employee's learning. JP are summed as whole
millionths of a JP (integers), here and in :func:`recompute`, so adding and taking away in
any order gives exactly the sum a recomputation gives, to the last bit. On PostgreSQL an
advisory lock per employee is taken before an adjustment reads anything, so an enrolment
and a completion of the same employee, in two transactions at once, each see what the
other committed. :func:`refresh` recomputes one row from the records (a repair).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from lms.courses.models import Enrollment
from lms.db import bulk_insert, get_session
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
#: JP are summed as integers of this many parts of a JP (so float noise cannot creep in,
#: and adjustments in any order equal a recomputation).
MICRO = 1_000_000
#: Decimals of a JP sum (millionths), for sums of summary values read elsewhere.
DECIMALS = 6


def _micro(jp: float) -> int:
    return round(float(jp) * MICRO)


def _jp(micro: int) -> float:
    return micro / MICRO


def local_year_month(when: dt.datetime) -> tuple[int, int]:
    """The year and month of ``when`` in the Pemda's time zone. At the very ends of the
    calendar, where the local time does not exist (9999-12-31T20:00Z is in year 10000 in
    WIB), the last (or first) month there is."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    try:
        local = when.astimezone(LOCAL_TZ)
    except OverflowError:
        return (dt.MAXYEAR, 12) if when.year == dt.MAXYEAR else (dt.MINYEAR, 1)
    return local.year, local.month


def _utc_start(year: int) -> dt.datetime:
    """The first instant of local ``year`` in UTC (clamped to the calendar's ends)."""
    if year > dt.MAXYEAR:
        return dt.datetime.max.replace(tzinfo=dt.UTC)
    try:
        return dt.datetime(year, 1, 1, tzinfo=LOCAL_TZ).astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return dt.datetime.min.replace(tzinfo=dt.UTC)


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The local calendar year as UTC instants [start, end) (year 9999 ends at the end of
    time, year 1 starts at its beginning)."""
    return _utc_start(year), _utc_start(year + 1)


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
    micro = dict.fromkeys(["jp", *(month_jp(m) for m in MONTHS)], 0)
    for jp, when, _statement_id in ordered:
        _year, month = local_year_month(when)
        micro["jp"] += _micro(jp)
        row["completions"] += 1
        micro[month_jp(month)] += _micro(jp)
        row[month_count(month)] += 1
    for when, completed in enrolments:
        _year, month = local_year_month(when)
        row["enrolled"] += 1
        row[month_enrolled(month)] += 1
        if completed:
            row["enrolled_completed"] += 1
            row[month_enrolled_completed(month)] += 1
    row.update({key: _jp(value) for key, value in micro.items()})
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


def _lock(executor: Any, dialect: Any, user_id: int) -> None:
    if dialect.name == "postgresql":
        # Two transactions may change the same employee's rows at once (a learner
        # enrolling while the consumer counts a completion of theirs): the second waits
        # for the first to commit, then reads what it wrote.
        executor.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_NAMESPACE, user_id)))


def _executor(connection: Any) -> tuple[Any, Any]:
    if connection is not None:
        return connection, connection.dialect
    session = get_session()
    return session, session.get_bind().dialect


def adjust(user_id: int, when: dt.datetime, *, jp: float = 0.0, completions: int = 0,
           enrolled: int = 0, enrolled_completed: int = 0, connection: Any = None,
           locked: bool = False) -> None:
    """Add one record's share to the row of ``user_id`` in the local year of ``when`` (in
    its month): ``jp`` and ``completions`` for a credited learning, ``enrolled`` and
    ``enrolled_completed`` for an enrolment; negative values take a record away. The row is
    created when missing and deleted when nothing is left in it. One row is read and
    written. Inside a flush (an enrolment hook), pass the flush's ``connection``.
    ``locked``: the caller holds the employee's lock (see :func:`lock_employee`)."""
    executor, dialect = _executor(connection)
    if not locked:
        _lock(executor, dialect, user_id)
    year, month = local_year_month(when)
    table = jp_summary_table
    where = (table.c.user_id == user_id, table.c.year == year)
    found = executor.execute(sa.select(table).where(*where)).mappings().first()
    row: dict[str, Any] = dict(found) if found is not None else _row_of_zeros(user_id, year)
    row["jp"] = _jp(_micro(row["jp"]) + _micro(jp))
    row[month_jp(month)] = _jp(_micro(row[month_jp(month)]) + _micro(jp))
    row["completions"] += completions
    row[month_count(month)] += completions
    row["enrolled"] += enrolled
    row[month_enrolled(month)] += enrolled
    row["enrolled_completed"] += enrolled_completed
    row[month_enrolled_completed(month)] += enrolled_completed
    if row["completions"] <= 0 and row["enrolled"] <= 0:
        if found is not None:
            executor.execute(sa.delete(table).where(*where))
    elif found is not None:
        executor.execute(sa.update(table).where(*where).values(
            {k: v for k, v in row.items() if k not in ("user_id", "year")}))
    else:
        executor.execute(sa.insert(table), [row])


def _row_of_zeros(user_id: int, year: int) -> dict[str, Any]:
    row: dict[str, Any] = {"user_id": user_id, "year": year, "jp": 0.0, "completions": 0,
                           "enrolled": 0, "enrolled_completed": 0}
    for month in MONTHS:
        row[month_jp(month)] = 0.0
        row[month_count(month)] = 0
        row[month_enrolled(month)] = 0
        row[month_enrolled_completed(month)] = 0
    return row


def lock_employee(user_id: int) -> None:
    """Take the employee's summary lock for this transaction (PostgreSQL), before reading
    what an adjustment depends on (whether an enrolment or a completion exists)."""
    executor, dialect = _executor(None)
    executor.flush()
    _lock(executor, dialect, user_id)


def lock_employees(user_ids: Iterable[int]) -> None:
    """Take the summary locks of these employees for this transaction (PostgreSQL), in id
    order and in one statement. Whoever changes several employees' rows in one
    transaction takes their locks this way first, as :func:`enrolments_added` does: two
    transactions that took overlapping locks in different orders would deadlock."""
    ids = sorted(set(user_ids))
    executor, dialect = _executor(None)
    if not ids or dialect.name != "postgresql":
        return
    executor.flush()
    executor.execute(sa.text(
        "SELECT pg_advisory_xact_lock(:ns, u) FROM unnest(CAST(:ids AS integer[])) "
        "AS u ORDER BY u"), {"ns": LOCK_NAMESPACE, "ids": ids})


def credit_added(user_id: int, when: dt.datetime, jp: float) -> None:
    """A credited learning (course completion or other) of ``jp`` came."""
    adjust(user_id, when, jp=jp, completions=1)


def credit_removed(user_id: int, when: dt.datetime, jp: float) -> None:
    """A credited learning went (its statement was voided)."""
    adjust(user_id, when, jp=-jp, completions=-1)


def course_completion_changed(user_id: int, course_id: int, sign: int) -> None:
    """The summary now counts (``sign`` 1) or no longer counts (-1) a completion of
    ``course_id`` by ``user_id``: the enrolment in that course, if any, counts as
    completed (or not) in the row of the year it was made."""
    lock_employee(user_id)
    when = get_session().scalar(sa.select(enrollment.c.enrolled_at).where(
        enrollment.c.user_id == user_id, enrollment.c.course_id == course_id))
    if when is not None:
        adjust(user_id, when, enrolled_completed=sign, locked=True)


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
    batch: list[dict[str, Any]] = []
    for (user_id, year), enrolments in enrolled.items():
        row = _row(user_id, year, (), enrolments)
        if row is not None:
            batch.append(row)
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
# follows them through the ORM: an enrolment inserted, deleted or moved to another user,
# course or time adds or takes away its share of the rows concerned, in the same flush.


def _credited(connection: Any, user_id: int, course_id: int) -> bool:
    """Whether the summary counts a completion of ``course_id`` by ``user_id``."""
    return connection.execute(sa.select(JpCourseCredit.id).where(
        JpCourseCredit.user_id == user_id, JpCourseCredit.course_id == course_id).limit(1)
    ).first() is not None


def _enrolment_share(connection: Any, user_id: Any, course_id: Any, when: Any,
                     sign: int) -> None:
    if user_id is None or course_id is None or when is None:
        return
    _lock(connection, connection.dialect, user_id)
    completed = 1 if _credited(connection, user_id, course_id) else 0
    adjust(user_id, when, enrolled=sign, enrolled_completed=sign * completed,
           connection=connection, locked=True)


def _after_insert(_mapper: Any, connection: Any, target: Any) -> None:
    _enrolment_share(connection, target.user_id, target.course_id, target.enrolled_at, 1)


def _old(state: Any, name: str, current: Any) -> Any:
    deleted = getattr(state.attrs, name).history.deleted
    return deleted[0] if deleted else current


def _after_update(_mapper: Any, connection: Any, target: Any) -> None:
    state = sa.inspect(target)
    if not (state.attrs.user_id.history.has_changes()
            or state.attrs.enrolled_at.history.has_changes()
            or state.attrs.course_id.history.has_changes()):
        return
    # The enrolment as it was goes, the enrolment as it is comes.
    _enrolment_share(connection, _old(state, "user_id", target.user_id),
                     _old(state, "course_id", target.course_id),
                     _old(state, "enrolled_at", target.enrolled_at), -1)
    _enrolment_share(connection, target.user_id, target.course_id, target.enrolled_at, 1)


def _after_delete(_mapper: Any, connection: Any, target: Any) -> None:
    state = sa.inspect(target)
    _enrolment_share(connection, _old(state, "user_id", target.user_id),
                     _old(state, "course_id", target.course_id),
                     _old(state, "enrolled_at", target.enrolled_at), -1)


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


def enrolments_added(course_id: int, user_ids: list[int], when: dt.datetime) -> None:
    """The enrolment hook's share for many enrolments at once: ``user_ids`` were enrolled
    in ``course_id`` at ``when`` by a bulk insert (which runs no ORM hook), e.g. an HR
    assignment that enrols 100,000 employees. Per 5,000 employees: their locks in one
    statement (in id order), one read, one UPDATE per kind and one INSERT."""
    session = get_session()
    session.flush()
    dialect = session.get_bind().dialect
    year, month = local_year_month(when)
    table = jp_summary_table
    ids = sorted(set(user_ids))
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        lock_employees(chunk)
        completed = set(session.scalars(sa.select(JpCourseCredit.user_id).where(
            JpCourseCredit.course_id == course_id,
            _among(JpCourseCredit.user_id, chunk, dialect))))
        existing = set(session.scalars(sa.select(table.c.user_id).where(
            table.c.year == year, _among(table.c.user_id, chunk, dialect))))
        for done in (True, False):
            group = [u for u in chunk if u in existing and (u in completed) == done]
            if not group:
                continue
            values = {"enrolled": table.c.enrolled + 1,
                      month_enrolled(month): table.c[month_enrolled(month)] + 1}
            if done:
                values["enrolled_completed"] = table.c.enrolled_completed + 1
                values[month_enrolled_completed(month)] = (
                    table.c[month_enrolled_completed(month)] + 1)
            session.execute(sa.update(table).where(
                table.c.year == year, _among(table.c.user_id, group, dialect)).values(values))
        rows = []
        for user_id in chunk:
            if user_id in existing:
                continue
            row = _row_of_zeros(user_id, year)
            share = 1 if user_id in completed else 0
            row["enrolled"] = row[month_enrolled(month)] = 1
            row["enrolled_completed"] = row[month_enrolled_completed(month)] = share
            rows.append(row)
        if rows:
            bulk_insert(table, rows)


def _among(column: Any, ids: list[int], dialect: Any) -> Any:
    """``column IN ids``: one array parameter on PostgreSQL (cheap to send for thousands of
    ids), a plain IN list elsewhere."""
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == sa.any_(sa.bindparam(None, list(ids), type_=ARRAY(sa.Integer)))
    return column.in_(ids)
