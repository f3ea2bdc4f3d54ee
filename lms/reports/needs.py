"""Training needs analysis (analisis kebutuhan pengembangan kompetensi, AKPK; PP 11/2017
art. 205-207): each employee's levels against the standard of the current position and,
when HR set one, of a target position; aggregated by competency and org unit; with the
routes (Lentera courses, classroom training, coaching, mentoring, secondment...) that
close each gap and what they would cost."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy import orm

from lms.competency.models import (
    MAX_LEVEL,
    Competency,
    CourseCompetency,
    PositionRequirement,
    UserCompetency,
)
from lms.db import get_session
from lms.errors import ValidationError
from lms.people.models import OrgUnit, Position, User
from lms.reports.models import DevelopmentRoute, TargetPosition, TrainingKind
from lms.reports.scope import Scope
from lms.reports.service import Filters, employees

#: Job-person match categories (see lms.competency.service): Optimal >= 90 %,
#: Cukup Optimal 78-<90 %, Kurang Optimal < 78 %.
JPM_OPTIMAL = 90
JPM_CUKUP = 78


def jpm_category(jpm: float | None) -> str | None:
    if jpm is None:
        return None
    if jpm >= JPM_OPTIMAL:
        return "optimal"
    return "cukup" if jpm >= JPM_CUKUP else "kurang"


@dataclass
class Route:
    """One way to close a gap: a Lentera course or a planned development route."""

    kind: str
    title: str
    provider: str
    jp: float
    schedule: str
    level: int
    cost_per_jp: float | None = None
    route_id: int | None = None
    slug: str | None = None

    def cost(self, participants: int, default_cost_per_jp: float | None) -> float | None:
        """What ``participants`` cost on this route (nothing for a Lentera course)."""
        rate = route_rate(self, default_cost_per_jp)
        if rate is None:
            return None
        return participants * self.jp * rate


@dataclass
class Need:
    """How many employees need one competency, and the routes that close it."""

    competency: Competency
    employees: int = 0
    gap_levels: int = 0
    target_employees: int = 0
    routes: list[Route] = field(default_factory=list)

    @property
    def average_gap(self) -> float:
        return self.gap_levels / self.employees if self.employees else 0.0

    @property
    def participants(self) -> int:
        """Who a plan should train: employees short of the current or target standard."""
        return max(self.employees, self.target_employees)


def _gap_rows(emp: Any, *, target: bool) -> sa.Select:
    """(competency id, employees below the level, summed missing levels)."""
    level = sa.func.coalesce(UserCompetency.level, 0)
    query = sa.select(
        PositionRequirement.competency_id,
        sa.func.count(),
        sa.func.sum(PositionRequirement.level - level),
    ).select_from(emp)
    if target:
        query = query.join(TargetPosition, TargetPosition.user_id == emp.c.user_id).join(
            PositionRequirement, PositionRequirement.position_id == TargetPosition.position_id)
    else:
        query = query.join(PositionRequirement,
                           PositionRequirement.position_id == emp.c.position_id)
    return (
        query.outerjoin(UserCompetency, sa.and_(
            UserCompetency.user_id == emp.c.user_id,
            UserCompetency.competency_id == PositionRequirement.competency_id))
        .where(level < PositionRequirement.level)
        .group_by(PositionRequirement.competency_id)
    )


def routes_by_competency() -> dict[int, list[Route]]:
    """Every route per competency: Lentera courses first, then planned routes."""
    session = get_session()
    routes: dict[int, list[Route]] = defaultdict(list)
    for course in session.scalars(sa.select(CourseCompetency).order_by(
            CourseCompetency.level, CourseCompetency.title)):
        routes[course.competency_id].append(Route(
            kind="course", title=course.title, provider="Lentera", jp=course.jp,
            schedule=_("Online, any time"), level=course.level, slug=course.slug))
    for route in session.scalars(sa.select(DevelopmentRoute).order_by(
            DevelopmentRoute.level, DevelopmentRoute.title)):
        routes[route.competency_id].append(Route(
            kind=TrainingKind(route.kind).value, title=route.title, provider=route.provider,
            jp=route.jp, schedule=route.schedule, level=route.level,
            cost_per_jp=route.cost_per_jp, route_id=route.id))
    return routes


def needs(scope: Scope, filters: Filters) -> list[Need]:
    """Competencies that employees of the scope lack, most needed first."""
    session = get_session()
    emp = employees(scope, filters)
    found: dict[int, Need] = {}
    competencies = {c.id: c for c in session.scalars(sa.select(Competency))}
    for competency_id, count, levels in session.execute(_gap_rows(emp, target=False)):
        found[competency_id] = Need(competencies[competency_id], employees=count,
                                    gap_levels=int(levels or 0))
    for competency_id, count, _levels in session.execute(_gap_rows(emp, target=True)):
        need = found.setdefault(competency_id, Need(competencies[competency_id]))
        need.target_employees = count
    routes = routes_by_competency()
    for competency_id, need in found.items():
        need.routes = routes.get(competency_id, [])
    return sorted(found.values(), key=lambda n: (-n.participants, n.competency.code))


@dataclass
class EmployeeMatch:
    user_id: int
    nip: str | None
    name: str
    unit: str
    position: str
    required: int
    achieved: int
    gaps: int
    target_position: str | None = None

    @property
    def jpm(self) -> int | None:
        return self.achieved * 100 // self.required if self.required else None

    @property
    def category(self) -> str | None:
        return jpm_category(self.jpm)


def match_query(scope: Scope, filters: Filters, category: str | None = None) -> sa.Select:
    """Per employee: Σ required, Σ min(level, required) and the number of gaps against the
    current position's standard (the job-person match), lowest match first."""
    emp = employees(scope, filters)
    level = sa.func.coalesce(UserCompetency.level, 0)
    achieved = sa.case((level < PositionRequirement.level, level),
                       else_=PositionRequirement.level)
    per_user = (
        sa.select(
            emp.c.user_id.label("user_id"),
            sa.func.sum(PositionRequirement.level).label("required"),
            sa.func.sum(achieved).label("achieved"),
            sa.func.sum(sa.case((level < PositionRequirement.level, 1), else_=0)).label("gaps"),
        )
        .select_from(emp)
        .join(PositionRequirement, PositionRequirement.position_id == emp.c.position_id)
        .outerjoin(UserCompetency, sa.and_(
            UserCompetency.user_id == emp.c.user_id,
            UserCompetency.competency_id == PositionRequirement.competency_id))
        .group_by(emp.c.user_id)
        .subquery("match")
    )
    target = orm.aliased(Position)
    ratio = per_user.c.achieved * 100 / per_user.c.required
    query = (
        sa.select(User.id, User.nip, User.name, OrgUnit.name, Position.name,
                  per_user.c.required, per_user.c.achieved, per_user.c.gaps, target.name)
        .select_from(per_user)
        .join(emp, emp.c.user_id == per_user.c.user_id)
        .join(User, User.id == emp.c.user_id)
        .join(OrgUnit, OrgUnit.id == emp.c.org_unit_id)
        .join(Position, Position.id == emp.c.position_id)
        .outerjoin(TargetPosition, TargetPosition.user_id == emp.c.user_id)
        .outerjoin(target, target.id == TargetPosition.position_id)
        .where(per_user.c.required > 0)
    )
    if category == "optimal":
        query = query.where(ratio >= JPM_OPTIMAL)
    elif category == "cukup":
        query = query.where(ratio >= JPM_CUKUP, ratio < JPM_OPTIMAL)
    elif category == "kurang":
        query = query.where(ratio < JPM_CUKUP)
    return query.order_by(ratio, User.name, User.id)


def to_match(row: Any) -> EmployeeMatch:
    return EmployeeMatch(user_id=row[0], nip=row[1], name=row[2], unit=row[3],
                         position=row[4], required=int(row[5] or 0),
                         achieved=int(row[6] or 0), gaps=int(row[7] or 0),
                         target_position=row[8])


def category_counts(scope: Scope, filters: Filters) -> dict[str, int]:
    """Employees per job-person match category (employees whose position has no standard
    are not counted)."""
    query = match_query(scope, filters).order_by(None).subquery()
    ratio = query.c.achieved * 100 / query.c.required
    category = sa.case((ratio >= JPM_OPTIMAL, "optimal"), (ratio >= JPM_CUKUP, "cukup"),
                       else_="kurang")
    counts: dict[str, int] = dict(get_session().execute(
        sa.select(category, sa.func.count()).select_from(query).group_by(category)).all())
    return {key: counts.get(key, 0) for key in ("optimal", "cukup", "kurang")}


def employee_gaps(user: User) -> dict[str, Any]:
    """One employee's gaps against the current and the target position's standards."""
    session = get_session()
    levels = dict(session.execute(sa.select(UserCompetency.competency_id, UserCompetency.level)
                                  .where(UserCompetency.user_id == user.id)).all())
    target_row = session.get(TargetPosition, user.id)
    target = session.get(Position, target_row.position_id) if target_row else None
    out: dict[str, Any] = {"target": target, "current": [], "target_rows": []}
    for key, position in (("current", user.position), ("target_rows", target)):
        if position is None:
            continue
        for req in session.scalars(sa.select(PositionRequirement).where(
                PositionRequirement.position_id == position.id)):
            level = levels.get(req.competency_id, 0)
            out[key].append({"competency": req.competency, "required": req.level,
                             "level": level, "gap": max(0, req.level - level)})
        out[key].sort(key=lambda r: (-r["gap"], r["competency"].code))
    return out


def set_target_position(user: User, position: Position | None) -> None:
    """Set (or clear, with None) the position ``user`` is developed toward."""
    session = get_session()
    row = session.get(TargetPosition, user.id)
    if position is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(TargetPosition(user_id=user.id, position_id=position.id))
    else:
        row.position_id = position.id
    session.flush()


@dataclass
class RouteSpec:
    competency_code: str
    kind: str
    title: str
    provider: str
    jp: float | None
    level: int | None
    schedule: str = ""
    cost_per_jp: float | None = None


def add_route(spec: RouteSpec) -> DevelopmentRoute:
    """Add a development route that closes a competency gap. Flushes."""
    session = get_session()
    competency = session.scalar(sa.select(Competency).where(
        Competency.code == (spec.competency_code or "").strip().upper()))
    if competency is None:
        raise ValidationError(_("Choose a competency."), field="competency")
    try:
        kind = TrainingKind(spec.kind)
    except ValueError:
        raise ValidationError(_("Choose the kind of learning."), field="kind") from None
    title = " ".join((spec.title or "").split())
    if not title:
        raise ValidationError(_("Title is required."), field="title")
    if spec.jp is None or not 0 < spec.jp <= 1000:
        raise ValidationError(_("JP must be more than 0 and at most %(max)d.", max=1000),
                              field="jp")
    level = spec.level or 1
    if not 1 <= level <= MAX_LEVEL:
        raise ValidationError(_("The level must be a number from 1 to 5."), field="level")
    if spec.cost_per_jp is not None and spec.cost_per_jp < 0:
        raise ValidationError(_("The cost cannot be negative."), field="cost_per_jp")
    route = DevelopmentRoute(
        competency_id=competency.id, level=level, kind=kind, title=title[:300],
        provider=" ".join((spec.provider or "").split())[:300], jp=float(spec.jp),
        schedule=(spec.schedule or "").strip()[:200], cost_per_jp=spec.cost_per_jp)
    session.add(route)
    session.flush()
    return route


# --- the budget plan and the per-employee AKPK ------------------------------------------
#
# A *need* is one competency to reach one level: every employee short of that level in it
# (against the current position's standard or, when HR set one, the target position's;
# an employee short against both counts once, toward the higher level). Each need gets ONE
# chosen route (:func:`choose_route`), and each employee in it is costed once:
# participants x JP x the route's cost per JP. Lentera's own courses cost nothing; a route
# without its own cost per JP takes the page's default (``REPORTS_COST_PER_JP``), and
# without either its cost is unknown and shown as such, never guessed.

#: Routes of learning that are classical (klasikal) training; the others, and Lentera's
#: courses, are non-classical (Peraturan LAN 10/2018).
CLASSICAL_KINDS = frozenset({"classroom", "seminar", "workshop", "university", "private"})


def development_type(kind: str) -> str:
    """Klasikal or nonklasikal, in the UI language."""
    return _("Classical") if kind in CLASSICAL_KINDS else _("Non-classical")


def route_rate(route: Route, default_cost_per_jp: float | None) -> float | None:
    """What one JP of ``route`` costs per participant: 0 for Lentera's courses (free),
    the route's own cost, else the default; None when nobody said."""
    if route.kind == "course":
        return 0.0
    if route.cost_per_jp is not None:
        return float(route.cost_per_jp)
    return default_cost_per_jp


def choose_route(routes: list[Route], required: int,
                 default_cost_per_jp: float | None) -> Route | None:
    """The one route a need is planned with: among the routes that reach the required
    level, the cheapest per participant (free courses first; a route of unknown cost
    after the priced ones), then the lowest level that is enough, then the fewest JP;
    when none reaches it, the route that gets closest."""
    if not routes:
        return None

    def price(route: Route) -> float:
        rate = route_rate(route, default_cost_per_jp)
        return float("inf") if rate is None else rate * route.jp

    reaching = [r for r in routes if r.level >= required]
    if reaching:
        return min(reaching, key=lambda r: (price(r), r.level, r.jp, r.title))
    return min(routes, key=lambda r: (-r.level, price(r), r.jp, r.title))


@dataclass
class PlanLine:
    """One need of the budget plan: a competency to a level, its employees, its route."""

    competency: Competency
    required: int
    employees: int = 0
    route: Route | None = None
    rate: float | None = None

    @property
    def cost_per_participant(self) -> float | None:
        if self.route is None or self.rate is None:
            return None
        return self.route.jp * self.rate

    @property
    def cost(self) -> float | None:
        each = self.cost_per_participant
        return None if each is None else each * self.employees

    @property
    def jp_total(self) -> float:
        return (self.route.jp if self.route else 0.0) * self.employees


@dataclass
class PlanTotals:
    needs: int = 0
    employees: int = 0
    participations: int = 0
    jp: float = 0.0
    cost: float = 0.0
    unpriced: int = 0  # needs whose cost is unknown (no route, or no cost per JP)


def _need_rows(scope: Scope, filters: Filters) -> sa.Select:
    """(user id, competency id, required level, level, basis) per employee and competency
    short of the current or target position's standard; the higher requirement wins."""
    emp = employees(scope, filters)
    current = (sa.select(emp.c.user_id.label("user_id"),
                         PositionRequirement.competency_id.label("competency_id"),
                         PositionRequirement.level.label("required"),
                         sa.literal("current").label("basis"))
               .select_from(emp)
               .join(PositionRequirement, PositionRequirement.position_id == emp.c.position_id))
    target = (sa.select(emp.c.user_id.label("user_id"),
                        PositionRequirement.competency_id.label("competency_id"),
                        PositionRequirement.level.label("required"),
                        sa.literal("target").label("basis"))
              .select_from(emp)
              .join(TargetPosition, TargetPosition.user_id == emp.c.user_id)
              .join(PositionRequirement,
                    PositionRequirement.position_id == TargetPosition.position_id))
    both = sa.union_all(current, target).subquery("requirements")
    cur = sa.func.coalesce(sa.func.max(sa.case((both.c.basis == "current", both.c.required),
                                               else_=0)), 0)
    tgt = sa.func.coalesce(sa.func.max(sa.case((both.c.basis == "target", both.c.required),
                                               else_=0)), 0)
    merged = (sa.select(both.c.user_id, both.c.competency_id,
                        sa.func.max(both.c.required).label("required"),
                        # The standard that asks more decides; the current one on a tie.
                        sa.case((tgt > cur, "target"), else_="current").label("basis"))
              .group_by(both.c.user_id, both.c.competency_id).subquery("needed"))
    level = sa.func.coalesce(UserCompetency.level, 0)
    return (sa.select(merged.c.user_id, merged.c.competency_id, merged.c.required,
                      level.label("level"), merged.c.basis)
            .select_from(merged)
            .outerjoin(UserCompetency, sa.and_(
                UserCompetency.user_id == merged.c.user_id,
                UserCompetency.competency_id == merged.c.competency_id))
            .where(level < merged.c.required))


def budget_plan(scope: Scope, filters: Filters, cost_per_jp: float | None
                ) -> tuple[list[PlanLine], PlanTotals]:
    """The budget plan: one line per need with its chosen route and cost, and totals."""
    session = get_session()
    needed = _need_rows(scope, filters).subquery("gaps")
    counts = session.execute(
        sa.select(needed.c.competency_id, needed.c.required, sa.func.count())
        .group_by(needed.c.competency_id, needed.c.required)).all()
    distinct = int(session.scalar(sa.select(sa.func.count(sa.distinct(needed.c.user_id))))
                   or 0)
    competencies = {c.id: c for c in session.scalars(sa.select(Competency))}
    routes = routes_by_competency()
    lines = []
    for competency_id, required, count in counts:
        route = choose_route(routes.get(competency_id, []), int(required), cost_per_jp)
        lines.append(PlanLine(competencies[competency_id], int(required), int(count), route,
                              route_rate(route, cost_per_jp) if route else None))
    lines.sort(key=lambda n: (-n.employees, n.competency.sort_order, n.competency.code,
                              n.required))
    totals = PlanTotals(needs=len(lines), employees=distinct,
                        participations=sum(n.employees for n in lines),
                        jp=sum(n.jp_total for n in lines),
                        cost=sum(n.cost or 0.0 for n in lines),
                        unpriced=sum(1 for n in lines if n.cost is None))
    return lines, totals


def employee_need_query(scope: Scope, filters: Filters) -> sa.Select:
    """Per employee and need: NIP, name, unit, position, competency, level, required level,
    basis; ordered by unit, name and competency (for the per-employee AKPK sheet)."""
    needed = _need_rows(scope, filters).subquery("gaps")
    emp = employees(scope, filters)
    return (sa.select(User.nip, User.name, OrgUnit.name, Position.name, Competency.id,
                      Competency.code, Competency.name, needed.c.level, needed.c.required,
                      needed.c.basis)
            .select_from(needed)
            .join(emp, emp.c.user_id == needed.c.user_id)
            .join(User, User.id == needed.c.user_id)
            .join(OrgUnit, OrgUnit.id == emp.c.org_unit_id)
            .join(Position, Position.id == emp.c.position_id)
            .join(Competency, Competency.id == needed.c.competency_id)
            .order_by(OrgUnit.path, User.name, User.id, Competency.sort_order,
                      Competency.code))


def employee_plan_rows(scope: Scope, filters: Filters, cost_per_jp: float | None,
                       kind_label: Any) -> Iterator[list[Any]]:
    """The per-employee AKPK rows (streamed): needs, development type, route, schedule, JP
    and cost, with the same route choice as :func:`budget_plan` (so the two add up)."""
    from lms.reports.service import iter_rows

    routes = routes_by_competency()
    chosen: dict[tuple[int, int], Route | None] = {}
    for row in iter_rows(employee_need_query(scope, filters)):
        (nip, name, unit, position, competency_id, code, competency_name, level, required,
         basis) = row
        key = (competency_id, int(required))
        if key not in chosen:
            chosen[key] = choose_route(routes.get(competency_id, []), int(required),
                                       cost_per_jp)
        route = chosen[key]
        rate = route_rate(route, cost_per_jp) if route else None
        yield [nip or "", name, unit, position, code, competency_name, int(level),
               int(required),
               _("Current position") if basis == "current" else _("Target position"),
               development_type(route.kind) if route else "",
               kind_label(route.kind) if route else "",
               route.title if route else _("No route yet"),
               route.provider if route else "", route.schedule if route else "",
               route.jp if route else None,
               None if route is None or rate is None else route.jp * rate]


def plan_rows(items: list[Need], cost_per_jp: float | None) -> list[dict[str, Any]]:
    """Every route per competency with what it would cost for the need's participants
    (Lentera's courses at no cost): the choices HR weighs, not the budget."""
    rows = []
    for need in items:
        for route in need.routes or [None]:  # type: ignore[list-item]
            rate = route_rate(route, cost_per_jp) if route else None
            rows.append({
                "code": need.competency.code,
                "competency": need.competency.name,
                "participants": need.participants,
                "average_gap": round(need.average_gap, 2),
                "route": route,
                "cost": None if rate is None else need.participants * route.jp * rate,
            })
    return rows

