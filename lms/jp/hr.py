"""HR's view of the 20 JP a year, inside the HR scope (lms.reports.scope): submissions
waiting for a decision by unit with their ages, employees below 20 JP with what they have
planned, and the 10:20:70 mix per employee."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from lms.db import get_session, utcnow
from lms.jp import kinds
from lms.jp.models import JpSubmission, SubmissionStatus
from lms.jp.service import JP_TARGET
from lms.jp.sources import credited_amounts
from lms.people.models import OrgUnit, Position, User
from lms.reports.models import jp_summary_table
from lms.reports.scope import Scope, scoped_employees
from lms.reports.summary import DECIMALS, year_bounds


@dataclass
class PendingRow:
    submission: JpSubmission
    employee: User
    unit: str
    age_days: int


@dataclass
class PendingUnit:
    unit: str
    rows: list[PendingRow] = field(default_factory=list)

    @property
    def oldest(self) -> int:
        return max((r.age_days for r in self.rows), default=0)


def pending_by_unit(scope: Scope, limit: int = 500) -> list[PendingUnit]:
    """Submissions waiting for the supervisor or HR, of the scope's employees, grouped by
    org unit (oldest first), with their age in days."""
    emp = scoped_employees(scope).subquery("emp")
    now = utcnow()
    rows = get_session().execute(
        sa.select(JpSubmission, User, OrgUnit.name)
        .join(emp, emp.c.user_id == JpSubmission.user_id)
        .join(User, User.id == JpSubmission.user_id)
        .join(OrgUnit, OrgUnit.id == emp.c.org_unit_id)
        .where(JpSubmission.status.in_([SubmissionStatus.SUBMITTED,
                                        SubmissionStatus.CONFIRMED]))
        .order_by(OrgUnit.name, JpSubmission.submitted_at).limit(limit)).all()
    units: dict[str, PendingUnit] = {}
    for submission, user, unit in rows:
        submitted = submission.submitted_at
        if submitted.tzinfo is None:
            submitted = submitted.replace(tzinfo=dt.UTC)
        units.setdefault(unit, PendingUnit(unit=unit)).rows.append(PendingRow(
            submission=submission, employee=user, unit=unit,
            age_days=max(0, (now - submitted).days)))
    return sorted(units.values(), key=lambda u: (-u.oldest, u.unit))


@dataclass
class BelowRow:
    user_id: int
    nip: str | None
    name: str
    unit: str
    position: str
    jp: float
    pending_jp: float = 0.0
    planned: list[Any] = field(default_factory=list)
    mix: dict[int, float] = field(default_factory=dict)

    @property
    def planned_jp(self) -> float:
        return sum(item.jp for item in self.planned)


def below_target_query(scope: Scope, year: int) -> sa.Select:
    """Employees of the scope with fewer than 20 JP in ``year`` (the per-year summary of
    the one JP source definition), fewest first."""
    emp = scoped_employees(scope).subquery("emp")
    table = jp_summary_table
    jp = sa.func.coalesce(table.c.jp, 0)
    return (
        sa.select(User.id, User.nip, User.name, OrgUnit.name, Position.name, jp.label("jp"))
        .select_from(emp)
        .join(User, User.id == emp.c.user_id)
        .join(OrgUnit, OrgUnit.id == emp.c.org_unit_id)
        .join(Position, Position.id == emp.c.position_id)
        .outerjoin(table, sa.and_(table.c.user_id == emp.c.user_id, table.c.year == year))
        .where(jp < JP_TARGET)
        .order_by(jp, User.name, User.id)
    )


def below_target(scope: Scope, year: int, page: int = 1, per_page: int = 50
                 ) -> tuple[list[BelowRow], int]:
    """One page of :func:`below_target_query`, each with the learning planned for the
    year (open items of their development plan), JP waiting for verification and the
    10:20:70 mix of what they have."""
    from lms.plans.models import DevelopmentPlan, PlanItem

    session = get_session()
    query = below_target_query(scope, year)
    total = session.scalar(sa.select(sa.func.count()).select_from(
        query.order_by(None).subquery())) or 0
    rows = [BelowRow(user_id=r[0], nip=r[1], name=r[2], unit=r[3], position=r[4],
                     jp=round(float(r[5]), DECIMALS))
            for r in session.execute(query.limit(per_page).offset((max(1, page) - 1)
                                                                  * per_page))]
    by_id = {r.user_id: r for r in rows}
    if by_id:
        for item, employee_id in session.execute(
                sa.select(PlanItem, DevelopmentPlan.employee_id)
                .join(DevelopmentPlan, DevelopmentPlan.id == PlanItem.plan_id)
                .where(DevelopmentPlan.employee_id.in_(list(by_id)),
                       DevelopmentPlan.year == year, PlanItem.done_at.is_(None))
                .order_by(PlanItem.start_date)):
            by_id[employee_id].planned.append(item)
        for user_id, value in session.execute(
                sa.select(JpSubmission.user_id, sa.func.sum(JpSubmission.jp))
                .where(JpSubmission.user_id.in_(list(by_id)),
                       JpSubmission.status.in_([SubmissionStatus.SUBMITTED,
                                                SubmissionStatus.CONFIRMED]),
                       JpSubmission.end_date >= dt.date(year, 1, 1),
                       JpSubmission.end_date <= dt.date(year, 12, 31))
                .group_by(JpSubmission.user_id)):
            by_id[user_id].pending_jp = float(value or 0)
        for user_id, mix in mixes(list(by_id), year).items():
            by_id[user_id].mix = mix
    return rows, total


def mixes(user_ids: list[int], year: int) -> dict[int, dict[int, float]]:
    """JP per 10:20:70 route of each employee in ``year``, from the one source
    definition (grouped by kind in SQL)."""
    records = credited_amounts()
    start, end = year_bounds(year)
    out: dict[int, dict[int, float]] = {uid: {10: 0.0, 20: 0.0, 70: 0.0} for uid in user_ids}
    for user_id, kind, value in get_session().execute(
            sa.select(records.c.user_id, records.c.kind, sa.func.sum(records.c.jp))
            .where(records.c.user_id.in_(user_ids), records.c.completed_at >= start,
                   records.c.completed_at < end)
            .group_by(records.c.user_id, records.c.kind)):
        route = kinds.route_of_kind(kind)
        out[user_id][route] = out[user_id].get(route, 0.0) + float(value or 0)
    return out


def mix_table(scope: Scope, year: int, page: int = 1, per_page: int = 50
              ) -> tuple[list[tuple[Any, ...]], int]:
    """Every employee of the scope with their JP in ``year`` and its 10:20:70 mix."""
    emp = scoped_employees(scope).subquery("emp")
    table = jp_summary_table
    jp = sa.func.coalesce(table.c.jp, 0)
    query = (sa.select(User.id, User.nip, User.name, OrgUnit.name, jp.label("jp"))
             .select_from(emp).join(User, User.id == emp.c.user_id)
             .join(OrgUnit, OrgUnit.id == emp.c.org_unit_id)
             .outerjoin(table, sa.and_(table.c.user_id == emp.c.user_id,
                                       table.c.year == year))
             .order_by(User.name, User.id))
    session = get_session()
    total = session.scalar(sa.select(sa.func.count()).select_from(
        query.order_by(None).subquery())) or 0
    rows = session.execute(query.limit(per_page).offset((max(1, page) - 1) * per_page)).all()
    found = mixes([r[0] for r in rows], year)
    return [(r, found.get(r[0], {})) for r in rows], total
