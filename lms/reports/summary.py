"""The per-employee, per-year JP summary (:class:`~lms.reports.models.JpSummary`).

The ``jp-credits`` consumer (:class:`lms.reports.training.JpLedger`) keeps it, statement by
statement, inside the transaction that advances its cursor, so each statement counts
exactly once; a replay of that consumer deletes and rebuilds it. It counts:

- every course completion under the courses ledger's rule (the first ``completed``, or
  ``passed`` with ``result.completion``, statement about a Lentera course per person; JP
  of the course version the statement names, else of the course), remembered in
  :class:`~lms.reports.models.JpCourseCredit`;
- every other credited learning, :class:`~lms.reports.models.JpCredit`.

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

from lms.db import get_session
from lms.reports.models import (
    MONTHS,
    JpCourseCredit,
    JpCredit,
    jp_summary_table,
    month_count,
    month_jp,
)

LOCAL_TZ = ZoneInfo("Asia/Jakarta")
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


def _row(user_id: int, year: int, records: Iterable[tuple[float, dt.datetime, str]]
         ) -> dict[str, Any] | None:
    """The summary row of ``records`` ((jp, completed_at, statement id) of one employee in
    one year), or None when there are none. Sums in a fixed order."""
    ordered = sorted(records, key=lambda r: (r[2], r[1]))
    if not ordered:
        return None
    row: dict[str, Any] = {"user_id": user_id, "year": year, "jp": 0.0, "completions": 0}
    for month in MONTHS:
        row[month_jp(month)] = 0.0
        row[month_count(month)] = 0
    for jp, when, _statement_id in ordered:
        _year, month = local_year_month(when)
        row["jp"] += float(jp)
        row["completions"] += 1
        row[month_jp(month)] += float(jp)
        row[month_count(month)] += 1
    for key in ["jp", *(month_jp(m) for m in MONTHS)]:
        row[key] = round(row[key], DECIMALS)
    return row


def _records_of(user_id: int, year: int) -> list[tuple[float, dt.datetime, str]]:
    session = get_session()
    start, end = year_bounds(year)
    out: list[tuple[float, dt.datetime, str]] = []
    for model in (JpCourseCredit, JpCredit):
        out.extend((jp, when, sid) for jp, when, sid in session.execute(
            sa.select(model.jp, model.completed_at, model.statement_id).where(
                model.user_id == user_id, model.completed_at >= start,
                model.completed_at < end)))
    return out


def refresh(user_id: int, year: int) -> None:
    """Recompute the summary row of ``user_id`` in ``year`` from their records (flushes
    pending ORM writes first so they are counted)."""
    session = get_session()
    session.flush()
    table = jp_summary_table
    session.execute(sa.delete(table).where(table.c.user_id == user_id, table.c.year == year))
    row = _row(user_id, year, _records_of(user_id, year))
    if row is not None:
        session.execute(sa.insert(table), [row])


def recompute() -> dict[tuple[int, int], dict[str, Any]]:
    """The whole summary computed afresh from the records, keyed by (user id, year)."""
    session = get_session()
    grouped: dict[tuple[int, int], list[tuple[float, dt.datetime, str]]] = {}
    for model in (JpCourseCredit, JpCredit):
        for jp, when, statement_id, user_id in session.execute(
                sa.select(model.jp, model.completed_at, model.statement_id, model.user_id)):
            year, _month = local_year_month(when)
            grouped.setdefault((user_id, year), []).append((jp, when, statement_id))
    out = {}
    for (user_id, year), records in grouped.items():
        row = _row(user_id, year, records)
        if row is not None:
            out[(user_id, year)] = row
    return out


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


def delete_all() -> None:
    session = get_session()
    session.execute(sa.delete(jp_summary_table))
    session.execute(sa.delete(JpCourseCredit))
