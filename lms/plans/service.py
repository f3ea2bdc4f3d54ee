"""Individual development plans: proposals from gaps, the approval workflow, tracking
against the LRS, and the organisation plan for a year.

Plain values in, models out; functions flush and never commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from lms.assessment.service import can_view_employee
from lms.competency import service as competency
from lms.competency.models import Competency
from lms.db import get_session, utcnow
from lms.errors import Conflict, Forbidden, NotFound, ValidationError
from lms.people.actors import actor_for, actor_keys
from lms.people.models import OrgUnit, Position, PositionAssignment, Role, User
from lms.plans.models import (
    AGREED,
    EDITABLE,
    DevelopmentPlan,
    PlanItem,
    PlanStatus,
)

ADL = "http://adlnet.gov/expapi/verbs/"
COMPLETED = ADL + "completed"
#: Route kinds besides Lentera courses (lms.reports.models.TrainingKind values).
ROUTE_KINDS = ("classroom", "seminar", "workshop", "coaching", "mentoring", "secondment",
               "university", "private", "elearning")
#: Days given to each proposed item, one after the other from the plan's start.
ITEM_DAYS = 30


def kind_labels() -> dict[str, str]:
    from lms.reports.models import TRAINING_KIND_LABELS

    labels = {"course": _("Lentera course")}
    labels.update({k.value: str(v) for k, v in TRAINING_KIND_LABELS.items()})
    return labels


# --- who may do what -----------------------------------------------------------------------
# Who may see an employee's plans is who may see their assessments (the employee, their
# supervisor, HR covering them, admins): one rule, in lms.assessment.service.


def can_edit(viewer: User, plan: DevelopmentPlan) -> bool:
    """The employee, and the supervisor or HR who prepare it with them, while editable."""
    return plan.status in EDITABLE and can_view_employee(viewer, plan.employee)


def get_plan(plan_id: int, viewer: User) -> DevelopmentPlan:
    plan = get_session().get(DevelopmentPlan, plan_id)
    if plan is None:
        raise NotFound(_("There is no such development plan."))
    if not can_view_employee(viewer, plan.employee):
        raise Forbidden(_("You may not see this development plan."))
    return plan


# --- proposals -----------------------------------------------------------------------------


def _schedule(year: int, index: int, count: int, today: dt.date) -> tuple[dt.date, dt.date]:
    """Dates of item ``index`` of ``count``: one after the other, 30 days each, from today
    (or 1 January of a later year); when the rest of the year is too short for that, the
    items share it (each at least 14 days, overlapping), all within the year."""
    first = today if today.year == year else dt.date(year, 1, 1)
    last = dt.date(year, 12, 31)
    window = (last - first).days + 1
    step = min(ITEM_DAYS, max(1, window // max(count, 1)))
    length = min(window, max(step, 14))
    start = min(first + dt.timedelta(days=step * index), last - dt.timedelta(days=length - 1))
    return start, start + dt.timedelta(days=length - 1)


def propose(employee: User, year: int, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Items that close the employee's gaps: the courses that close them (biggest gap
    first, with their JP), then for each gap a planned route of lms.reports (classroom,
    coaching, mentoring, secondment...) that reaches the required level; a gap that
    nothing closes gets a coaching item with the supervisor. Dates: see _schedule."""
    from lms.reports.needs import routes_by_competency

    today = today or dt.date.today()
    profile = competency.build_profile(employee)
    gaps = sorted(profile.gaps, key=lambda r: (-r.gap, r.competency.code))
    items: list[dict[str, Any]] = []
    covered: set[int] = set()
    for course in competency.recommended_courses(employee, limit=50):
        first = course["competencies"][0]
        row = next(r for r in gaps if r.competency.code == first["code"])
        items.append({"kind": "course", "title": course["title"], "provider": "Lentera",
                      "activity_iri": course["iri"], "course_slug": course["slug"],
                      "jp": float(course["jp"] or 0), "competency_id": row.competency.id,
                      "target_level": int(first["level"])})
        covered |= {r.competency.id for r in gaps
                    if r.competency.code in {c["code"] for c in course["competencies"]}}
    routes = routes_by_competency()
    for row in gaps:
        options = [r for r in routes.get(row.competency.id, [])
                   if r.kind != "course" and r.level > row.level]
        options.sort(key=lambda r: (r.level < row.required, abs(r.level - row.required)))
        if options:
            route = options[0]
            items.append({"kind": route.kind, "title": route.title, "provider": route.provider,
                          "jp": float(route.jp or 0), "cost_per_jp": route.cost_per_jp,
                          "competency_id": row.competency.id, "target_level": route.level})
        elif row.competency.id not in covered:
            items.append({"kind": "coaching",
                          "title": _("Coaching by the supervisor: %(name)s",
                                     name=row.competency.name),
                          "provider": _("Direct supervisor"), "jp": 0.0,
                          "competency_id": row.competency.id,
                          "target_level": row.required})
    for index, item in enumerate(items):
        item["start_date"], item["end_date"] = _schedule(int(year), index, len(items), today)
    return items


def _item_iri() -> str:
    return f"{current_app.config['BASE_URL']}/plans/items/{uuid.uuid4()}"


def _check_item(data: dict[str, Any], year: int) -> dict[str, Any]:
    kind = str(data.get("kind") or "")
    if kind != "course" and kind not in ROUTE_KINDS:
        raise ValidationError(_("Choose a known kind of learning."), field="kind")
    title = str(data.get("title") or "").strip()
    if not title or len(title) > 300:
        raise ValidationError(_("Give a title of at most 300 characters."), field="title")
    try:
        jp = float(data.get("jp") or 0)
    except (TypeError, ValueError):
        raise ValidationError(_("JP must be a number."), field="jp") from None
    if not 0 <= jp <= 1000:
        raise ValidationError(_("JP must be between 0 and 1000."), field="jp")
    start, end = data.get("start_date"), data.get("end_date")
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise ValidationError(_("Give a start and an end date."), field="start_date")
    if end < start:
        raise ValidationError(_("The end date is before the start date."), field="end_date")
    if start.year != year and end.year != year:
        raise ValidationError(_("The dates must fall in the plan's year %(year)d.", year=year),
                              field="start_date")
    cost = data.get("cost_per_jp")
    if cost is not None:
        try:
            cost = float(cost)
        except (TypeError, ValueError):
            raise ValidationError(_("The cost per JP must be a number."),
                                  field="cost_per_jp") from None
        if cost < 0:
            raise ValidationError(_("The cost per JP cannot be negative."), field="cost_per_jp")
    competency_id = data.get("competency_id")
    if competency_id is not None and get_session().get(Competency, competency_id) is None:
        raise ValidationError(_("Unknown competency."), field="competency_id")
    try:
        target = max(1, min(5, int(data.get("target_level") or 1)))
    except (TypeError, ValueError):
        target = 1
    return {"kind": kind, "title": title, "provider": str(data.get("provider") or "")[:300],
            "activity_iri": str(data.get("activity_iri") or "") or _item_iri(),
            "course_slug": data.get("course_slug"), "jp": jp, "cost_per_jp": cost,
            "start_date": start, "end_date": end, "competency_id": competency_id,
            "target_level": target}


def create_from_gaps(employee: User, creator: User, year: int,
                     today: dt.date | None = None) -> DevelopmentPlan:
    """One click: a draft plan for ``year`` with the proposed items."""
    if not can_view_employee(creator, employee):
        raise Forbidden(_("You may not plan for this employee."))
    if not employee.nip:
        raise ValidationError(_("Only employees with a NIP have development plans."))
    today = today or dt.date.today()
    if not today.year - 1 <= int(year) <= today.year + 2:
        raise ValidationError(_("Choose a year between %(a)d and %(b)d.", a=today.year - 1,
                                b=today.year + 2), field="year")
    session = get_session()
    if session.scalar(sa.select(DevelopmentPlan.id).where(
            DevelopmentPlan.employee_id == employee.id, DevelopmentPlan.year == year)):
        raise Conflict(_("%(name)s already has a development plan for %(year)d.",
                         name=employee.name, year=year))
    plan = DevelopmentPlan(employee_id=employee.id, year=int(year), created_by_id=creator.id,
                           status=PlanStatus.DRAFT, comment="")
    session.add(plan)
    for data in propose(employee, int(year), today):
        plan.items.append(PlanItem(**_check_item(data, int(year))))
    session.flush()
    sync(plan)
    return plan


def add_item(plan: DevelopmentPlan, viewer: User, data: dict[str, Any]) -> PlanItem:
    if not can_edit(viewer, plan):
        raise Forbidden(_("This plan cannot be changed now."))
    clean = _check_item(data, plan.year)
    if clean["kind"] == "course":
        raise ValidationError(_("Courses come from the proposals; add another kind here."),
                              field="kind")
    item = PlanItem(**clean)
    plan.items.append(item)
    get_session().flush()
    return item


def update_item(plan: DevelopmentPlan, item: PlanItem, viewer: User,
                data: dict[str, Any]) -> None:
    if not can_edit(viewer, plan):
        raise Forbidden(_("This plan cannot be changed now."))
    merged = {c: getattr(item, c) for c in ("kind", "title", "provider", "activity_iri",
                                            "course_slug", "jp", "cost_per_jp", "start_date",
                                            "end_date", "competency_id", "target_level")}
    merged.update({k: v for k, v in data.items() if k in ("jp", "start_date", "end_date",
                                                          "cost_per_jp")})
    clean = _check_item(merged, plan.year)
    for key in ("jp", "start_date", "end_date", "cost_per_jp"):
        setattr(item, key, clean[key])
    get_session().flush()


def remove_item(plan: DevelopmentPlan, item: PlanItem, viewer: User) -> None:
    if not can_edit(viewer, plan):
        raise Forbidden(_("This plan cannot be changed now."))
    plan.items.remove(item)
    get_session().flush()


def item_of(plan: DevelopmentPlan, item_id: int) -> PlanItem:
    item = next((i for i in plan.items if i.id == item_id), None)
    if item is None:
        raise NotFound(_("There is no such item in this plan."))
    return item


# --- workflow ------------------------------------------------------------------------------


def submit(plan: DevelopmentPlan, viewer: User) -> None:
    if viewer.id != plan.employee_id:
        raise Forbidden(_("Only the employee submits their plan."))
    if plan.status not in EDITABLE:
        raise ValidationError(_("Only a draft or returned plan can be submitted."))
    if not plan.items:
        raise ValidationError(_("Add at least one item before submitting."))
    plan.status, plan.submitted_at = PlanStatus.SUBMITTED, utcnow()
    get_session().flush()
    from lms.plans.notify import plan_submitted

    plan_submitted(plan)


def _decide(plan: DevelopmentPlan, viewer: User) -> None:
    if not competency.is_supervisor_of(viewer, plan.employee):
        raise Forbidden(_("Only the employee's supervisor decides on the plan."))
    if plan.status != PlanStatus.SUBMITTED:
        raise ValidationError(_("Only a submitted plan can be approved or returned."))
    plan.decided_by_id, plan.decided_at = viewer.id, utcnow()


def approve(plan: DevelopmentPlan, viewer: User) -> None:
    _decide(plan, viewer)
    plan.status, plan.comment = PlanStatus.APPROVED, ""
    get_session().flush()
    sync(plan)
    from lms.plans.notify import plan_decided

    plan_decided(plan, viewer)


def return_plan(plan: DevelopmentPlan, viewer: User, comment: str) -> None:
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError(_("Say what should change: the comment is required."),
                              field="comment")
    _decide(plan, viewer)
    plan.status, plan.comment = PlanStatus.RETURNED, comment[:4000]
    get_session().flush()
    from lms.plans.notify import plan_decided

    plan_decided(plan, viewer)


def start(plan: DevelopmentPlan, viewer: User) -> None:
    if viewer.id != plan.employee_id:
        raise Forbidden(_("Only the employee starts their plan."))
    if plan.status != PlanStatus.APPROVED:
        raise ValidationError(_("Only an approved plan can be started."))
    plan.status = PlanStatus.IN_PROGRESS
    get_session().flush()


def report_done(plan: DevelopmentPlan, item: PlanItem, viewer: User) -> str:
    """The employee reports a route other than a Lentera course as done: a ``completed``
    statement about the item's activity goes to the LRS, and tracking marks the item
    done from it (as it would from a statement another system sends)."""
    from lms.xapi.service import store_statements

    if viewer.id != plan.employee_id:
        raise Forbidden(_("Only the employee reports their learning."))
    if plan.status not in (PlanStatus.APPROVED, PlanStatus.IN_PROGRESS):
        raise ValidationError(_("Learning is reported on an approved plan."))
    if item.kind == "course":
        raise ValidationError(_("A course item is done when the course is completed."))
    if item.done:
        raise ValidationError(_("This item is done already."))
    base = current_app.config["BASE_URL"]
    statement = {
        "id": str(uuid.uuid4()), "actor": actor_for(plan.employee),
        "verb": {"id": COMPLETED, "display": {"en-US": "completed", "id-ID": "menyelesaikan"}},
        "object": {"objectType": "Activity", "id": item.activity_iri, "definition": {
            "type": "http://adlnet.gov/expapi/activities/course",
            "name": {"id-ID": item.title}}},
        "result": {"completion": True},
        "context": {"contextActivities": {"parent": [
            {"objectType": "Activity", "id": f"{base}/plans/{plan.id}"}]},
            "extensions": {f"{base}/plans/xapi/kind": item.kind,
                           f"{base}/plans/xapi/jp": item.jp}},
    }
    store_statements([statement])
    return str(statement["id"])


# --- tracking against the LRS --------------------------------------------------------------


def is_completion(data: dict[str, Any]) -> bool:
    verb = (data.get("verb") or {}).get("id")
    return verb == COMPLETED or (data.get("result") or {}).get("completion") is True


def _advance(plan: DevelopmentPlan) -> None:
    if plan.status == PlanStatus.APPROVED and plan.done_count:
        plan.status = PlanStatus.IN_PROGRESS
    if plan.status == PlanStatus.IN_PROGRESS and plan.items and all(i.done for i in plan.items):
        plan.status, plan.completed_at = PlanStatus.DONE, utcnow()
    if plan.status == PlanStatus.DONE and not all(i.done for i in plan.items):
        plan.status, plan.completed_at = PlanStatus.IN_PROGRESS, None


def mark_done(item: PlanItem, statement_id: str, when: dt.datetime) -> None:
    item.done_statement_id, item.done_at = statement_id, when
    _advance(item.plan)


def sync(plan: DevelopmentPlan) -> int:
    """Mark the items whose completion the LRS already holds (by the employee's NIP
    account, user account, e-mail or its hash; not voided), and advance the plan.
    Returns how many items became done."""
    from lms.xapi.models import Statement

    session = get_session()
    open_items = [i for i in plan.items if not i.done]
    if not open_items:
        return 0
    rows = session.execute(
        sa.select(Statement.statement_id, Statement.activity_id, Statement.timestamp,
                  Statement.data)
        .where(Statement.activity_id.in_([i.activity_iri for i in open_items]),
               Statement.actor_key.in_(actor_keys(plan.employee)),
               Statement.voided.is_(False))
        .order_by(Statement.seq)).all()
    found: dict[str, tuple[str, dt.datetime]] = {}
    from lms.xapi.launch import outside_launch

    for statement_id, activity_id, timestamp, data in rows:
        if is_completion(data or {}) and not outside_launch(data or {}) \
                and activity_id not in found:
            found[activity_id] = (statement_id, timestamp)
    changed = 0
    if plan.status in AGREED:
        for item in open_items:
            if item.activity_iri in found:
                item.done_statement_id, item.done_at = found[item.activity_iri]
                changed += 1
        _advance(plan)
        session.flush()
    return changed


# --- reading -------------------------------------------------------------------------------


def plans_of(employee: User) -> list[DevelopmentPlan]:
    return list(get_session().scalars(
        sa.select(DevelopmentPlan).where(DevelopmentPlan.employee_id == employee.id)
        .order_by(DevelopmentPlan.year.desc())))


def team_plans(supervisor: User) -> list[DevelopmentPlan]:
    """Plans of the employees ``supervisor`` leads (submitted first)."""
    team = {u.id for u in competency.subordinates(supervisor, limit=2000)}
    if not team:
        return []
    return list(get_session().scalars(
        sa.select(DevelopmentPlan).where(DevelopmentPlan.employee_id.in_(team))
        .order_by(DevelopmentPlan.submitted_at)))


def cost_per_jp_setting() -> float | None:
    value = current_app.config.get("REPORTS_COST_PER_JP")
    return float(value) if value not in (None, "") else None


@dataclass
class OrgRow:
    plan: DevelopmentPlan
    item: PlanItem
    unit: str
    cost_per_jp: float | None

    @property
    def cost(self) -> float | None:
        return None if self.cost_per_jp is None else round(self.item.jp * self.cost_per_jp, 2)


def organisation_plan(viewer: User, year: int, unit_path: str | None = None) -> list[OrgRow]:
    """Every item of the approved (in progress, done) plans of ``year`` of the employees
    in the viewer's HR scope (lms.reports.scope), with JP and cost."""
    from lms.reports.scope import scope_for

    if not viewer.has_role(Role.HR, Role.ADMIN):
        raise Forbidden(_("The organisation plan is for HR and administrators."))
    scope = scope_for(viewer)
    session = get_session()
    query = (sa.select(DevelopmentPlan, OrgUnit.name, OrgUnit.path)
             .join(User, User.id == DevelopmentPlan.employee_id)
             .join(PositionAssignment, sa.and_(PositionAssignment.user_id == User.id,
                                               PositionAssignment.end_date.is_(None)))
             .join(Position, Position.id == PositionAssignment.position_id)
             .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
             .where(DevelopmentPlan.year == year,
                    DevelopmentPlan.status.in_([s.value for s in AGREED]))
             .order_by(OrgUnit.path, User.name))
    if not scope.everyone:
        query = query.where(OrgUnit.path.like(f"{scope.path}%"))
    if unit_path:
        query = query.where(OrgUnit.path.like(unit_path + "%"))
    default = cost_per_jp_setting()
    rows = []
    for plan, unit_name, _path in session.execute(query):
        for item in plan.items:
            # Lentera's own courses cost nothing; other routes their own rate or the default.
            rate = item.cost_per_jp if item.cost_per_jp is not None else (
                0.0 if item.kind == "course" else default)
            rows.append(OrgRow(plan=plan, item=item, unit=unit_name, cost_per_jp=rate))
    return rows


def org_headers() -> list[str]:
    return [_("NIP"), _("Name"), _("Org unit"), _("Status"), _("Competency"),
            _("Target level"), _("Kind"), _("Learning"), _("Provider"), _("Start"), _("End"),
            _("JP"), _("Cost per JP"), _("Cost"), _("Done")]


def org_cells(rows: list[OrgRow]) -> list[list[Any]]:
    labels = kind_labels()
    return [[r.plan.employee.nip, r.plan.employee.name, r.unit, r.plan.status.label,
             r.item.competency.name if r.item.competency else "", r.item.target_level,
             labels.get(r.item.kind, r.item.kind), r.item.title, r.item.provider,
             r.item.start_date, r.item.end_date, r.item.jp, r.cost_per_jp, r.cost,
             _("yes") if r.item.done else _("no")] for r in rows]


@dataclass
class Summary:
    key: str
    employees: set[int]
    items: int = 0
    jp: float = 0.0
    cost: float = 0.0


def summarise(rows: list[OrgRow], by: str) -> list[Summary]:
    """Totals per org unit (``by="unit"``) or per kind of learning (``by="kind"``)."""
    labels = kind_labels()
    groups: dict[str, Summary] = {}
    for row in rows:
        key = row.unit if by == "unit" else labels.get(row.item.kind, row.item.kind)
        group = groups.setdefault(key, Summary(key=key, employees=set()))
        group.employees.add(row.plan.employee_id)
        group.items += 1
        group.jp += row.item.jp
        group.cost += row.cost or 0
    return sorted(groups.values(), key=lambda g: (-g.jp, g.key))


def summary_headers(by: str) -> list[str]:
    return [_("Org unit") if by == "unit" else _("Kind"), _("Employees"), _("Items"),
            _("JP"), _("Cost")]


def summary_cells(groups: list[Summary]) -> list[list[Any]]:
    return [[g.key, len(g.employees), g.items, g.jp, g.cost] for g in groups]
