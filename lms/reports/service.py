"""HR queries: figures, drill-downs and completion records over the employees of a scope.

Every function takes a :class:`~lms.reports.scope.Scope` and starts from
:func:`~lms.reports.scope.scoped_employees`, so nothing here can reach an employee outside
it. The queries aggregate in the database (one round trip per figure group), so they
stay fast at 100,000 employees (see bench/hr.py).

JP come from the one source definition, :mod:`lms.jp.sources` (course completions and
every other credited learning), or from the per-employee summary the ``jp-credits``
consumer keeps of exactly those records; one employee's JP is :mod:`lms.jp.service`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from lms.courses.models import Completion, Enrollment
from lms.db import get_session
from lms.jp.service import JP_TARGET  # noqa: F401  (at least 20 JP a year)
from lms.jp.sources import credited_amounts, credited_records
from lms.people.models import OrgUnit, Position, PositionKind, User
from lms.reports.models import (
    jp_summary_table,
    month_count,
    month_enrolled,
    month_enrolled_completed,
    month_jp,
)
from lms.reports.scope import Scope, narrow, scoped_employees
from lms.reports.summary import DECIMALS

LOCAL_TZ = ZoneInfo("Asia/Jakarta")
#: JP distribution bands (lower bound inclusive, upper exclusive; None: open).
JP_BANDS: list[tuple[float, float | None]] = [(0, 0.0001), (0.0001, 10), (10, 20), (20, 40),
                                               (40, None)]


def today() -> dt.date:
    return dt.datetime.now(LOCAL_TZ).date()


@dataclass
class Filters:
    """What a report page is narrowed to: an org unit subtree, a position kind, a period
    (local dates, both inclusive)."""

    unit: OrgUnit | None = None
    kind: PositionKind | None = None
    date_from: dt.date = field(default_factory=lambda: dt.date(today().year, 1, 1))
    date_to: dt.date = field(default_factory=lambda: dt.date(today().year, 12, 31))

    @property
    def year(self) -> int:
        """The calendar year the 20 JP right is measured in: the period's last year."""
        return self.date_to.year

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as UTC instants [start, end)."""
        return _local_bounds(self.date_from, self.date_to)

    def year_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return _local_bounds(dt.date(self.year, 1, 1), dt.date(self.year, 12, 31))

    def args(self) -> dict[str, str]:
        """The filters as query-string arguments (for links that keep them)."""
        out = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        if self.unit is not None:
            out["unit"] = str(self.unit.id)
        if self.kind is not None:
            out["kind"] = self.kind.value
        return out


#: Report periods lie within these years (a date near year 1 or 9999 leaves the calendar
#: when turned into UTC instants of the Pemda's time zone).
MIN_REPORT_YEAR, MAX_REPORT_YEAR = 1900, 2999


def _local_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(first, dt.time.min, LOCAL_TZ).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, LOCAL_TZ)
    return start, end.astimezone(dt.UTC)


def parse_filters(args: Any, scope: Scope) -> Filters:
    """Filters from query-string ``args`` (``unit``, ``kind``, ``from``, ``to``), checked
    against ``scope``. Bad values raise ValidationError naming the field."""
    filters = Filters()
    unit_id = (args.get("unit") or "").strip()
    if unit_id:
        unit = get_session().get(OrgUnit, int(unit_id)) if (
            unit_id.isascii() and unit_id.isdigit() and len(unit_id) <= 9) else None
        if unit is None:
            from lms.errors import ValidationError

            raise ValidationError(_("There is no such org unit."), field="unit")
        narrow(scope, unit)  # refuses a unit outside the scope
        filters.unit = unit
    kind = (args.get("kind") or "").strip()
    if kind:
        try:
            filters.kind = PositionKind(kind)
        except ValueError:
            from lms.errors import ValidationError

            raise ValidationError(_("Unknown position kind."), field="kind") from None
    for name, attr in (("from", "date_from"), ("to", "date_to")):
        value = (args.get(name) or "").strip()
        if value:
            try:
                setattr(filters, attr, dt.date.fromisoformat(value))
            except ValueError:
                from lms.errors import ValidationError

                raise ValidationError(_("Write dates as YYYY-MM-DD."), field=name) from None
            if not MIN_REPORT_YEAR <= getattr(filters, attr).year <= MAX_REPORT_YEAR:
                from lms.errors import ValidationError

                first, last = dt.date(MIN_REPORT_YEAR, 1, 1), dt.date(MAX_REPORT_YEAR, 12, 31)
                raise ValidationError(_("Choose dates from %(first)s to %(last)s.",
                                        first=first.isoformat(), last=last.isoformat()),
                                      field=name)
    if filters.date_to < filters.date_from:
        from lms.errors import ValidationError

        raise ValidationError(_("The end of the period is before its start."), field="to")
    return filters


def employees(scope: Scope, filters: Filters) -> sa.Subquery:
    """The employees the page is about, as a subquery (``user_id, org_unit_id, path,
    position_id, kind``)."""
    return scoped_employees(narrow(scope, filters.unit), filters.kind).subquery("emp")


#: The one source definition of JP (lms.jp.sources), under the names these reports use.
jp_records = credited_records
jp_amounts = credited_amounts


def employee_ids(scope: Scope, filters: Filters) -> sa.Subquery:
    """Only the ``user_id`` of :func:`employees`, joining no more tables than the scope and
    filters need (the dashboard's sums scan 100,000s of rows against it)."""
    from lms.people.models import PositionAssignment

    narrowed = narrow(scope, filters.unit)
    if narrowed.path is not None or filters.kind is not None:
        return sa.select(employees(scope, filters).c.user_id).subquery("emp_ids")
    return (
        sa.select(PositionAssignment.user_id.label("user_id"))
        .join(User, User.id == PositionAssignment.user_id)
        .where(PositionAssignment.end_date.is_(None), User.active.is_(True))
        .subquery("emp_ids")
    )


def _band_case(column: Any) -> Any:
    whens = []
    for index, (low, high) in enumerate(JP_BANDS):
        condition = column >= low if high is None else sa.and_(column >= low, column < high)
        whens.append((condition, index))
    return sa.case(*whens, else_=0)


def band_label(index: int) -> str:
    low, high = JP_BANDS[index]
    if index == 0:
        return "0"
    if high is None:
        return f"≥ {low:g}"
    return f"{low:g}–<{high:g}" if low >= 1 else f">0–<{high:g}"


@dataclass
class Dashboard:
    employees: int
    enrolled: int
    enrolled_completed: int
    completions: int
    jp_total: float
    average_jp: float
    at_target: int
    year: int
    months: list[tuple[str, int, float]]
    bands: list[tuple[str, int]]

    @property
    def completion_rate(self) -> float | None:
        return self.enrolled_completed * 100 / self.enrolled if self.enrolled else None

    @property
    def at_target_share(self) -> float | None:
        return self.at_target * 100 / self.employees if self.employees else None


def _month(column: Any) -> Any:
    """``YYYY-MM`` of a timestamp, in local time on PostgreSQL (UTC on SQLite)."""
    if get_session().get_bind().dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone("Asia/Jakarta", column), "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def whole_months(filters: Filters) -> bool:
    """Whether the period starts on a 1st and ends on a month's last day, so the monthly
    columns of the JP summary give its figures exactly."""
    return filters.date_from.day == 1 and (filters.date_to + dt.timedelta(days=1)).day == 1


def _period_months(filters: Filters) -> list[tuple[int, int]]:
    """(year, month) of every month in a whole-month period, in order."""
    out = []
    year, month = filters.date_from.year, filters.date_from.month
    while (year, month) <= (filters.date_to.year, filters.date_to.month):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _jp_in_year(year: int) -> sa.Subquery:
    """``user_id, jp`` of every employee with JP in ``year`` (from the summary)."""
    table = jp_summary_table
    return (sa.select(table.c.user_id, table.c.jp).where(table.c.year == year)
            .subquery("jp_user"))


#: Monthly columns of the JP summary the dashboard sums, in this order.
_MONTH_COLUMNS = (month_count, month_jp, month_enrolled, month_enrolled_completed)


def dashboard(scope: Scope, filters: Filters) -> Dashboard:
    """The dashboard's figures for the employees of ``scope`` narrowed by ``filters``.

    JP and completions come from the per-employee, per-year summary
    (:mod:`lms.reports.summary`): one pass over the scope's employees joined to their row
    of the year gives the head count, the JP distribution, who reached the target, and
    (for a period of whole months inside that year) the completions per month. A period
    reaching into other years adds one pass per year; a period that starts or ends
    mid-month counts its months, enrolments and their completions from the records
    themselves. The summary keeps the enrolments made in each month and how many of them
    were completed, so the enrolled and completed figures follow the same rule.
    """
    session = get_session()
    emp = employee_ids(scope, filters)
    table = jp_summary_table
    months_wanted = _period_months(filters) if whole_months(filters) else None
    this_year = [m for y, m in months_wanted or [] if y == filters.year]

    # A whole year (the default period) reads the enrolment totals of the year rather
    # than summing them month by month: half the sums over 100,000 rows.
    whole_year = len(this_year) == 12
    month_columns = _MONTH_COLUMNS[:2] if whole_year else _MONTH_COLUMNS
    band = _band_case(sa.func.coalesce(table.c.jp, 0))
    columns: list[Any] = [band, sa.func.count(), sa.func.sum(table.c.jp),
                          sa.func.sum(table.c.enrolled), sa.func.sum(table.c.enrolled_completed)]
    for month in this_year:
        columns += [sa.func.sum(table.c[name(month)]) for name in month_columns]
    counts: dict[int, int] = {}
    per_month: dict[tuple[int, int], list[float]] = {}
    total = 0
    year_total = 0.0
    year_enrolled = [0, 0]
    width = len(month_columns)
    for row in session.execute(
        sa.select(*columns).select_from(emp)
        .outerjoin(table, sa.and_(table.c.user_id == emp.c.user_id,
                                  table.c.year == filters.year))
        .group_by(band)
    ):
        counts[row[0]] = row[1]
        total += row[1]
        year_total += float(row[2] or 0)
        year_enrolled[0] += row[3] or 0
        year_enrolled[1] += row[4] or 0
        for index, month in enumerate(this_year):
            cell = per_month.setdefault((filters.year, month), [0, 0.0, 0, 0])
            # (completions, JP[, enrolled, enrolled and completed]) of the month
            for offset, value in enumerate(row[5 + width * index:5 + width * (index + 1)]):
                cell[offset] += value or 0
    at_target = sum(n for index, n in counts.items() if JP_BANDS[index][0] >= JP_TARGET)

    if months_wanted is not None:
        other_years = sorted({y for y, _m in months_wanted if y != filters.year})
        for year in other_years:
            wanted = [m for y, m in months_wanted if y == year]
            row = session.execute(
                sa.select(*[sa.func.sum(table.c[name(m)])
                            for m in wanted for name in _MONTH_COLUMNS])
                .select_from(table).join(emp, emp.c.user_id == table.c.user_id)
                .where(table.c.year == year)).one()
            step = len(_MONTH_COLUMNS)
            for index, month in enumerate(wanted):
                per_month[(year, month)] = [value or 0 for value in
                                            row[step * index:step * (index + 1)]]
        months = [(f"{y:04d}-{m:02d}", int(n), round(float(jp), DECIMALS))
                  for (y, m), (n, jp, _e, _ec) in sorted(per_month.items()) if n]
        # Enrolments made in the period, and how many of them were completed (whenever).
        cells = [cell for (y, _m), cell in per_month.items() if y != filters.year or not whole_year]
        enrolled = sum(int(cell[2]) for cell in cells)
        enrolled_completed = sum(int(cell[3]) for cell in cells)
        if whole_year:
            enrolled += int(year_enrolled[0])
            enrolled_completed += int(year_enrolled[1])
    else:
        months = _months_from_records(emp, filters)
        enrolled, enrolled_completed = _enrolled_from_records(emp, filters)
    return Dashboard(
        employees=total,
        enrolled=enrolled or 0,
        enrolled_completed=enrolled_completed or 0,
        completions=sum(m[1] for m in months),
        jp_total=sum(m[2] for m in months),
        average_jp=year_total / total if total else 0.0,
        at_target=at_target,
        year=filters.year,
        months=months,
        bands=[(band_label(i), counts.get(i, 0)) for i in range(len(JP_BANDS))],
    )


def _enrolled_from_records(emp: sa.Subquery, filters: Filters) -> tuple[int, int]:
    """Enrolments made in a period that does not fall on month boundaries, and how many of
    them have a completion, counted from the enrolments themselves."""
    start, end = filters.bounds()
    enrolled_q = (
        sa.select(sa.func.count(Enrollment.id), sa.func.count(Completion.id))
        .select_from(Enrollment)
        .join(emp, emp.c.user_id == Enrollment.user_id)
        .outerjoin(Completion, sa.and_(Completion.user_id == Enrollment.user_id,
                                       Completion.course_id == Enrollment.course_id))
        .where(Enrollment.enrolled_at >= start, Enrollment.enrolled_at < end)
    )
    enrolled, completed = get_session().execute(enrolled_q).one()
    return enrolled or 0, completed or 0


def _months_from_records(emp: sa.Subquery, filters: Filters) -> list[tuple[str, int, float]]:
    """Completions and JP per month of a period that does not fall on month boundaries,
    summed from the records themselves."""
    start, end = filters.bounds()
    records = jp_amounts()
    month = _month(records.c.completed_at)
    return [
        (row[0], row[1], float(row[2] or 0))
        for row in get_session().execute(
            sa.select(month, sa.func.count(), sa.func.sum(records.c.jp))
            .select_from(records)
            .join(emp, emp.c.user_id == records.c.user_id)
            .where(records.c.completed_at >= start, records.c.completed_at < end)
            .group_by(month)
            .order_by(month)
        )
    ]


# --- gaps by org unit and competency -------------------------------------------------------


@dataclass
class Heatmap:
    units: list[OrgUnit]
    unit_totals: dict[int, int]
    competencies: list[Any]
    #: (unit id, competency id) -> employees below the required level
    cells: dict[tuple[int, int], int]

    def share(self, unit_id: int, competency_id: int) -> float:
        total = self.unit_totals.get(unit_id) or 0
        return self.cells.get((unit_id, competency_id), 0) * 100 / total if total else 0.0

    def heat(self, unit_id: int, competency_id: int) -> int:
        """0..5 for the cell's colour."""
        share = self.share(unit_id, competency_id)
        return 0 if share == 0 else min(5, 1 + int(share // 20))


def row_units(scope: Scope, filters: Filters) -> list[OrgUnit]:
    """The rows of unit breakdowns: the sub-units of the chosen unit (or of the scope's
    unit; the OPDs when the scope is everyone); the unit itself when it has none."""
    session = get_session()
    parent = filters.unit or scope.unit
    if parent is None:
        roots = list(session.scalars(sa.select(OrgUnit).where(OrgUnit.parent_id.is_(None))))
        if len(roots) != 1:
            return sorted(roots, key=lambda u: u.name)
        parent = roots[0]
    children = list(session.scalars(
        sa.select(OrgUnit).where(OrgUnit.parent_id == parent.id).order_by(OrgUnit.name)))
    return children or [parent]


def _group_of(units: list[OrgUnit]) -> Any:
    """A function mapping an org unit's path to the row unit containing it (or None)."""
    prefixes = sorted(((u.path, u.id) for u in units), key=lambda p: -len(p[0]))

    def group(path: str | None) -> int | None:
        for prefix, unit_id in prefixes:
            if path and path.startswith(prefix):
                return unit_id
        return None

    return group


def gap_heatmap(scope: Scope, filters: Filters) -> Heatmap:
    """How many employees of each sub-unit are below their position's standard in each
    competency. The database counts per org unit (a few hundred groups); the counts are
    folded into the row units here, which is much cheaper than grouping on path prefixes
    row by row."""
    from lms.competency.models import Competency, PositionRequirement, UserCompetency

    session = get_session()
    emp = employees(scope, filters)
    units = row_units(scope, filters)
    group = _group_of(units)
    paths = dict(session.execute(sa.select(OrgUnit.id, OrgUnit.path)).all())
    # Head count per (unit, position): the unit totals, and with the positions'
    # standards, how many employees each requirement applies to.
    requirements: dict[int, list[tuple[int, int]]] = {}
    for position_id, competency_id, required in session.execute(
            sa.select(PositionRequirement.position_id, PositionRequirement.competency_id,
                      PositionRequirement.level)):
        requirements.setdefault(position_id, []).append((competency_id, required))
    unit_totals: dict[int, int] = {}
    cells: dict[tuple[int, int], int] = {}
    for unit_id, position_id, count in session.execute(
            sa.select(emp.c.org_unit_id, emp.c.position_id, sa.func.count())
            .group_by(emp.c.org_unit_id, emp.c.position_id)):
        row = group(paths.get(unit_id))
        if row is None:
            continue
        unit_totals[row] = unit_totals.get(row, 0) + count
        for competency_id, _required in requirements.get(position_id, ()):
            cells[(row, competency_id)] = cells.get((row, competency_id), 0) + count
    # Minus those who meet the level: one pass over the profile rows of the scope, much
    # cheaper than looking up every (employee, requirement) pair.
    for unit_id, competency_id, count in session.execute(
        sa.select(emp.c.org_unit_id, UserCompetency.competency_id, sa.func.count())
        .select_from(UserCompetency)
        .join(emp, emp.c.user_id == UserCompetency.user_id)
        .join(PositionRequirement, sa.and_(
            PositionRequirement.position_id == emp.c.position_id,
            PositionRequirement.competency_id == UserCompetency.competency_id))
        .where(UserCompetency.level >= PositionRequirement.level)
        .group_by(emp.c.org_unit_id, UserCompetency.competency_id)
    ):
        row = group(paths.get(unit_id))
        if row is not None:
            cells[(row, competency_id)] -= count
    cells = {key: n for key, n in cells.items() if n > 0}
    wanted = {c for _u, c in cells}
    competencies = [c for c in session.scalars(
        sa.select(Competency).order_by(Competency.sort_order, Competency.code))
        if c.id in wanted]
    return Heatmap(units=units, unit_totals=unit_totals, competencies=competencies, cells=cells)


# --- drill-down ----------------------------------------------------------------------------

DRILLS = ("all", "enrolled", "completed", "completions", "below", "at_target", "band", "gap")


@dataclass
class EmployeeRow:
    user_id: int
    nip: str | None
    name: str
    unit: str
    position: str
    kind: str
    jp: float


def drill_query(scope: Scope, filters: Filters, drill: str = "all", *,
                band: int | None = None, competency_id: int | None = None,
                search: str = "") -> sa.Select:
    """Employees behind one figure of the dashboard, with their JP in the year."""
    from lms.competency.models import PositionRequirement, UserCompetency

    emp = employees(scope, filters)
    start, end = filters.bounds()
    per_user = _jp_in_year(filters.year)
    jp = sa.func.coalesce(per_user.c.jp, 0)
    query = (
        sa.select(User.id, User.nip, User.name, OrgUnit.name, Position.name, Position.kind,
                  jp.label("jp"))
        .select_from(emp)
        .join(User, User.id == emp.c.user_id)
        .join(OrgUnit, OrgUnit.id == emp.c.org_unit_id)
        .join(Position, Position.id == emp.c.position_id)
        .outerjoin(per_user, per_user.c.user_id == emp.c.user_id)
    )
    if drill in ("enrolled", "completed"):
        enrolled = sa.select(Enrollment.user_id).where(
            Enrollment.enrolled_at >= start, Enrollment.enrolled_at < end)
        if drill == "completed":
            enrolled = enrolled.join(Completion, sa.and_(
                Completion.user_id == Enrollment.user_id,
                Completion.course_id == Enrollment.course_id))
        query = query.where(emp.c.user_id.in_(enrolled))
    elif drill == "completions":
        records = jp_amounts()
        query = query.where(emp.c.user_id.in_(
            sa.select(records.c.user_id).where(records.c.completed_at >= start,
                                               records.c.completed_at < end)))
    elif drill == "below":
        query = query.where(jp < JP_TARGET)
    elif drill == "at_target":
        query = query.where(jp >= JP_TARGET)
    elif drill == "band" and band is not None and 0 <= band < len(JP_BANDS):
        query = query.where(_band_case(jp) == band)
    elif drill == "gap" and competency_id is not None:
        level = sa.func.coalesce(UserCompetency.level, 0)
        gap = (
            sa.select(PositionRequirement.position_id)
            .outerjoin(UserCompetency, sa.and_(
                UserCompetency.user_id == emp.c.user_id,
                UserCompetency.competency_id == PositionRequirement.competency_id))
            .where(PositionRequirement.position_id == emp.c.position_id,
                   PositionRequirement.competency_id == competency_id,
                   level < PositionRequirement.level)
        )
        query = query.where(gap.exists())
    text = (search or "").strip().lower()
    if text:
        like = "%" + _escape_like(text) + "%"
        query = query.where(sa.or_(User.nip.like(like, escape="\\"),
                                   sa.func.lower(User.name).like(like, escape="\\")))
    return query.order_by(User.name, User.id)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def page_rows(query: sa.Select, page: int, per_page: int = 25) -> tuple[list[Any], int]:
    """One page of a row query and the total count."""
    session = get_session()
    total = session.scalar(sa.select(sa.func.count()).select_from(
        query.order_by(None).subquery())) or 0
    rows = session.execute(query.limit(per_page).offset((max(1, page) - 1) * per_page)).all()
    return rows, total


# --- completion records --------------------------------------------------------------------

#: Sortable columns of the completion records (name -> the column's label in the query).
RECORD_SORTS = ("completed_at", "nip", "name", "unit", "title", "kind", "provider", "jp")
RECORD_COLUMNS = ["completed_at", "nip", "name", "unit", "position", "title", "kind",
                  "provider", "jp", "certificate"]


def records_query(scope: Scope, filters: Filters, *, search: str = "",
                  sort: str = "completed_at", descending: bool = True,
                  nip: str | None = None) -> sa.Select:
    """Completion records (courses and other learning) of the scope's employees in the
    period, sorted and searched (NIP, name or title). The employees' NIP, name, unit and
    position come from the scope's own joins (no second join of those tables)."""
    emp = (scoped_employees(narrow(scope, filters.unit), filters.kind)
           .add_columns(User.nip.label("nip"), User.name.label("name"),
                        OrgUnit.name.label("unit"), Position.name.label("position"))
           .subquery("emp"))
    records = jp_records()
    start, end = filters.bounds()
    query = (
        sa.select(
            records.c.completed_at.label("completed_at"),
            emp.c.nip.label("nip"),
            emp.c.name.label("name"),
            emp.c.unit.label("unit"),
            emp.c.position.label("position"),
            records.c.title.label("title"),
            records.c.kind.label("kind"),
            records.c.provider.label("provider"),
            records.c.jp.label("jp"),
            records.c.certificate.label("certificate"),
        )
        .select_from(records)
        .join(emp, emp.c.user_id == records.c.user_id)
        .where(records.c.completed_at >= start, records.c.completed_at < end)
    )
    if nip:
        query = query.where(emp.c.nip == nip)
    text = (search or "").strip().lower()
    if text:
        like = "%" + _escape_like(text) + "%"
        query = query.where(sa.or_(emp.c.nip.like(like, escape="\\"),
                                   sa.func.lower(emp.c.name).like(like, escape="\\"),
                                   sa.func.lower(records.c.title).like(like, escape="\\")))
    columns = {c.name: c for c in query.selected_columns}
    key = columns[sort if sort in RECORD_SORTS else "completed_at"]
    order = key.desc() if descending else key.asc()
    # A unique tie-break keeps pages stable.
    return query.order_by(order, records.c.statement_id)


def records_from_args(scope: Scope, args: Any) -> tuple[sa.Select, Filters, dict[str, Any]]:
    """The completion records query of a page's (or a job's) query-string ``args``
    (filters, ``q``, ``sort``, ``dir``): the query, the filters and the table's state."""
    filters = parse_filters(args, scope)
    sort = args.get("sort", "completed_at") or "completed_at"
    if sort not in RECORD_SORTS:
        sort = "completed_at"
    descending = args.get("dir", "desc") != "asc"
    search = (args.get("q", "") or "").strip()[:100]
    query = records_query(scope, filters, search=search, sort=sort, descending=descending)
    return query, filters, {"sort": sort, "dir": "desc" if descending else "asc", "q": search}


def count_rows(query: sa.Select) -> int:
    return get_session().scalar(sa.select(sa.func.count()).select_from(
        query.order_by(None).subquery())) or 0


def iter_rows(query: sa.Select, chunk: int = 2000) -> Iterator[Any]:
    """Rows of ``query`` fetched in chunks (a server-side cursor on PostgreSQL), so an
    export of 100,000 rows never holds them all in memory."""
    session = get_session()
    result = session.execute(query.execution_options(yield_per=chunk, stream_results=True))
    try:
        yield from result
    finally:
        result.close()


def export_rows(query: sa.Select, chunk: int = 2000) -> Iterator[Any]:
    """Rows of a :func:`records_query` for an export: the same columns, but the first is
    the local date of ``completed_at`` (a :class:`datetime.date`), computed by PostgreSQL
    there. Plain rows straight from a server-side cursor (no ORM row processing), in
    chunks, so 100,000s of rows stream in flat memory at the speed of the writer."""
    session = get_session()
    completed_at = query.selected_columns.completed_at
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        local_date = sa.cast(sa.func.timezone(str(LOCAL_TZ), completed_at), sa.Date)
        query = query.with_only_columns(local_date.label("completed_on"),
                                        *list(query.selected_columns)[1:],
                                        maintain_column_froms=True)
    result = session.connection().execution_options(stream_results=True).execute(query)
    result = result.yield_per(chunk)
    try:
        if postgresql:
            for part in result.partitions():
                yield from part
        else:  # SQLite: the local date in Python
            for row in result:
                when = row[0] if row[0].tzinfo else row[0].replace(tzinfo=dt.UTC)
                yield (when.astimezone(LOCAL_TZ).date(), *row[1:])
    finally:
        result.close()
