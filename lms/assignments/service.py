"""Assignments: creating them, keeping their members in step with the organisation,
each member's status from the learning ledger, and the compliance figures.

Members are materialised (``assignment_member``) so reminders, the learner's home and
the reports are plain indexed queries; :func:`sync` brings one assignment's members in
line with its audience (new people join with their own due date, people who left keep
their row with ``left_at`` and what they did), and :func:`sync_all` runs nightly and
after changes in people (signals). Statuses are computed in SQL from the facts the
``assignments`` consumer derives from the LRS (:mod:`lms.assignments.ledger`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import orm

from lms.assignments import audience as aud
from lms.assignments.models import (
    COURSE,
    PROGRAM,
    TRAINING,
    Assignment,
    AssignmentMember,
    Audience,
    LearningFact,
    Program,
    ProgramCompletion,
    ProgramItem,
    ReminderSent,
)
from lms.db import bulk_insert, get_session, utcnow
from lms.errors import Forbidden, NotFound, ValidationError
from lms.people.models import OrgUnit, PositionAssignment, User
from lms.reports.scope import EVERYONE, Scope

#: Status names, in the order reports show them.
ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"
ON_TIME = "on_time"
LATE = "late"
OVERDUE = "overdue"
STATUSES = (ASSIGNED, IN_PROGRESS, ON_TIME, LATE, OVERDUE)
#: A window start for assignments that do not recur: any completion ever counts.
EVER = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
CHUNK = 5000


def local_tz() -> ZoneInfo:
    try:
        return ZoneInfo(str(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Jakarta"))
    except Exception:
        return ZoneInfo("Asia/Jakarta")


def today() -> dt.date:
    return dt.datetime.now(local_tz()).date()


def day_start_utc(day: dt.date) -> dt.datetime:
    """The UTC instant at which ``day`` begins in the Pemda's time zone."""
    return dt.datetime.combine(day, dt.time(), tzinfo=local_tz()).astimezone(dt.UTC)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --- scope --------------------------------------------------------------------------------


def scope_of_unit(unit_id: int | None) -> Scope:
    """The scope an assignment (or audience, program) was made in."""
    if unit_id is None:
        return EVERYONE
    unit = get_session().get(OrgUnit, unit_id)
    if unit is None:
        return EVERYONE
    return Scope(path=unit.path, unit=unit)


def visible(query: sa.Select, model: Any, scope: Scope) -> sa.Select:
    """Rows of ``model`` made inside ``scope`` (a central HR scope sees all)."""
    if scope.path is None:
        return query
    return query.join(OrgUnit, OrgUnit.id == model.org_unit_id).where(
        OrgUnit.path.like(scope.path + "%"))


def get_assignment(assignment_id: int, scope: Scope) -> Assignment:
    found = get_session().scalar(visible(sa.select(Assignment), Assignment, scope).where(
        Assignment.id == assignment_id))
    if found is None:
        raise NotFound(_("No such assignment in your HR scope."))
    return found


def get_program(program_id: int, scope: Scope) -> Program:
    found = get_session().scalar(visible(sa.select(Program), Program, scope).where(
        Program.id == program_id))
    if found is None:
        raise NotFound(_("No such learning program in your HR scope."))
    return found


# --- creating -----------------------------------------------------------------------------


@dataclass
class AssignmentSpec:
    title: str
    target_kind: str
    target_id: int
    rules: dict[str, Any]
    audience_id: int | None = None
    due_date: dt.date | None = None
    due_days: int | None = None
    yearly: bool = False
    enrol_now: bool = True
    remind_before: str = "7,1"
    remind_on_due: bool = True
    remind_after: str = "3,14"
    escalate_after: int | None = 7


def parse_days(text: str, field: str) -> str:
    """"7, 1" -> "7,1"; whole days 1..365, at most 6 of them."""
    out: list[int] = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 365:
            raise ValidationError(_("Give whole days from 1 to 365, separated by commas."),
                                  field=field)
        out.append(int(part))
    if len(out) > 6:
        raise ValidationError(_("At most six reminders."), field=field)
    return ",".join(str(d) for d in sorted(set(out), reverse=field == "remind_before"))


def days_of(text: str) -> list[int]:
    return [int(p) for p in (text or "").split(",") if p.strip().isdigit()]


def _target_exists(kind: str, target_id: int, scope: Scope) -> str:
    """The target's title, or a ValidationError."""
    session = get_session()
    if kind == COURSE:
        from lms.courses.models import Course

        course = session.get(Course, target_id)
        if course is None or not course.published:
            raise ValidationError(_("Choose a published course."), field="target")
        return course.title
    if kind == PROGRAM:
        return get_program(target_id, scope).title
    if kind == TRAINING:
        from lms.reports.models import Training

        training = session.get(Training, target_id)
        if training is None or training.voided:
            raise ValidationError(_("Choose a recorded offline training."), field="target")
        return training.title
    raise ValidationError(_("Choose what to assign."), field="target")


def create_assignment(spec: AssignmentSpec, *, by: User | None, scope: Scope) -> Assignment:
    """Store an assignment made in ``scope`` and fill its members (see :func:`sync`)."""
    title = _target_exists(spec.target_kind, spec.target_id, scope)
    rules = aud.clean_rules(spec.rules)
    session = get_session()
    if spec.audience_id is not None:
        saved = session.scalar(visible(sa.select(Audience), Audience, scope).where(
            Audience.id == spec.audience_id))
        if saved is None:
            raise ValidationError(_("Choose a saved audience of your HR scope."),
                                  field="audience")
    elif not aud.has_rules(rules):
        raise ValidationError(_("Choose who the assignment is for."), field="units")
    for unit_id in rules.get("units", []):
        unit = session.get(OrgUnit, unit_id)
        if unit is None or not scope.covers(unit.path):
            raise Forbidden(_("That org unit is outside your HR scope."))
    if (spec.due_date is None) == (spec.due_days is None):
        raise ValidationError(_("Give a due date, or a number of days after joining."),
                              field="due_date")
    if spec.due_days is not None and not 1 <= spec.due_days <= 3650:
        raise ValidationError(_("Days after joining: from 1 to 3650."), field="due_days")
    assignment = Assignment(
        title=(spec.title or "").strip()[:200] or title[:200],
        target_kind=spec.target_kind,
        course_id=spec.target_id if spec.target_kind == COURSE else None,
        program_id=spec.target_id if spec.target_kind == PROGRAM else None,
        training_id=spec.target_id if spec.target_kind == TRAINING else None,
        rules=rules, audience_id=spec.audience_id, due_date=spec.due_date,
        due_days=spec.due_days, yearly=spec.yearly, enrol_now=spec.enrol_now,
        remind_before=parse_days(spec.remind_before, "remind_before"),
        remind_on_due=spec.remind_on_due,
        remind_after=parse_days(spec.remind_after, "remind_after"),
        escalate_after=spec.escalate_after,
        org_unit_id=scope.unit.id if scope.unit is not None else None,
        created_by_id=by.id if by is not None else None,
    )
    session.add(assignment)
    session.flush()
    # Members now; enrolments after the caller's commit (enrol_missing), in chunks.
    sync(assignment, enrol_now=False)
    return assignment


def enrol_missing(assignment: Assignment, *, commit: bool = True) -> int:
    """Enrol the current members not enrolled yet (an assignment that enrols at once):
    after it is created, and nightly as the safety net. Commits every 1,000 people."""
    if not assignment.enrol_now or assignment.archived_at is not None or \
            assignment.target_kind == TRAINING:
        return 0
    from lms.courses.models import Enrollment

    session = get_session()
    course_ids = ([assignment.course_id] if assignment.target_kind == COURSE else
                  list(session.scalars(sa.select(ProgramItem.course_id).where(
                      ProgramItem.program_id == assignment.program_id,
                      ProgramItem.kind == COURSE))))
    made = 0
    for course_id in course_ids:
        missing = list(session.scalars(
            sa.select(AssignmentMember.user_id).where(
                AssignmentMember.assignment_id == assignment.id,
                AssignmentMember.left_at.is_(None), latest_cycle(),
                ~sa.exists(sa.select(Enrollment.id).where(
                    Enrollment.user_id == AssignmentMember.user_id,
                    Enrollment.course_id == course_id)))
            .order_by(AssignmentMember.user_id)))
        if missing:
            made += enrol(assignment, missing, commit=commit, missing=True,
                          only_course=course_id)
    return made


def rules_of(assignment: Assignment) -> dict[str, Any]:
    if assignment.audience_id is not None:
        saved = get_session().get(Audience, assignment.audience_id)
        return dict(saved.rules) if saved is not None else {}
    return dict(assignment.rules or {})


# --- members ------------------------------------------------------------------------------


def latest_cycle() -> Any:
    """A condition on ``AssignmentMember``: the row is the person's latest cycle (no later
    one exists). An anti-join on the unique (assignment, user, cycle) index, linear in the
    members, whatever the planner's estimates after a bulk insert."""
    later = orm.aliased(AssignmentMember)
    return ~sa.exists(sa.select(later.id).where(
        later.assignment_id == AssignmentMember.assignment_id,
        later.user_id == AssignmentMember.user_id, later.cycle > AssignmentMember.cycle))


def _first_due(assignment: Assignment, joined: dt.date) -> dt.date:
    if assignment.due_days is not None:
        return joined + dt.timedelta(days=assignment.due_days)
    assert assignment.due_date is not None
    due = assignment.due_date
    if assignment.yearly:
        # A yearly assignment made after this year's date starts with the next one.
        while due < joined:
            due = add_years(due, 1)
    return due


def _window(assignment: Assignment, due: dt.date) -> dt.datetime:
    return day_start_utc(add_years(due, -1) + dt.timedelta(days=1)) if assignment.yearly \
        else EVER


def due_end(due: dt.date) -> dt.datetime:
    return day_start_utc(due + dt.timedelta(days=1))


@dataclass
class SyncResult:
    joined: int = 0
    left: int = 0
    rejoined: int = 0
    enrolled: int = 0


def sync(assignment: Assignment, on: dt.date | None = None, *, enrol_now: bool = True
         ) -> SyncResult:
    """Bring the members of ``assignment`` in line with its audience today.

    People newly in the audience get a row (due ``due_days`` after today, or the fixed
    date); people no longer in it get ``left_at`` (their row and learning stay); people
    who come back are chased again. Works in chunks, so 100,000 people take seconds."""
    result = SyncResult()
    if assignment.archived_at is not None:
        return result
    on = on or today()
    session = get_session()
    scope = scope_of_unit(assignment.org_unit_id)
    wanted = set(session.scalars(aud.members_query(rules_of(assignment), scope)))
    rows = session.execute(
        sa.select(AssignmentMember.id, AssignmentMember.user_id, AssignmentMember.left_at)
        .where(AssignmentMember.assignment_id == assignment.id, latest_cycle())).all()
    current = {r.user_id: r for r in rows}
    new_ids = [u for u in wanted if u not in current]
    back = [current[u].id for u in wanted if u in current and current[u].left_at is not None]
    gone = [r.id for u, r in current.items() if u not in wanted and r.left_at is None]
    due = _first_due(assignment, on)
    window = _window(assignment, due)
    ends = due_end(due)
    bulk_insert(AssignmentMember, [
        {"assignment_id": assignment.id, "user_id": u, "cycle": 0, "joined_at": on,
         "window_start": window, "due_date": due, "due_end": ends, "left_at": None}
        for u in new_ids])
    for ids, value in ((back, None), (gone, on)):
        for start in range(0, len(ids), CHUNK):
            session.execute(sa.update(AssignmentMember).where(
                AssignmentMember.id.in_(ids[start:start + CHUNK])).values(left_at=value))
    result.joined, result.rejoined, result.left = len(new_ids), len(back), len(gone)
    if enrol_now and assignment.enrol_now and (new_ids or back):
        result.enrolled = enrol(assignment, new_ids + [u for u in wanted if u in current
                                                       and current[u].left_at is not None])
    session.flush()
    return result


ENROL_CHUNK = 1000


def enrol(assignment: Assignment, user_ids: list[int], *, commit: bool = False,
          missing: bool = False, only_course: int | None = None) -> int:
    """Enrol these people in the assigned course (or the program's courses) unless they
    are already: bulk inserts, and the JP summary's share of each enrolment added in bulk
    (:func:`lms.reports.summary.enrolments_added`), as the enrolment hook would.

    ``commit``: commit after every 1,000 people (the summary locks each employee until the
    transaction ends, and PostgreSQL holds a bounded number of locks per transaction);
    what a crash leaves undone, :func:`enrol_missing` does the next night. ``missing``:
    the caller knows none of them is enrolled (no check per chunk)."""
    from lms.courses.models import Course, Enrollment

    session = get_session()
    if assignment.target_kind == COURSE:
        course_ids = [assignment.course_id]
    elif assignment.target_kind == PROGRAM:
        course_ids = [i.course_id for i in session.scalars(sa.select(ProgramItem).where(
            ProgramItem.program_id == assignment.program_id, ProgramItem.kind == COURSE))]
    else:
        return 0
    if only_course is not None:
        course_ids = [c for c in course_ids if c == only_course]
    made = 0
    now = utcnow()
    for course_id in course_ids:
        course = session.get(Course, course_id)
        if course is None or not course.published:
            continue
        version = course.version
        for start in range(0, len(user_ids), ENROL_CHUNK):
            chunk = user_ids[start:start + ENROL_CHUNK]
            have = set() if missing else set(session.scalars(sa.select(
                Enrollment.user_id).where(Enrollment.course_id == course_id,
                                          Enrollment.user_id.in_(chunk))))
            new_ids = [u for u in chunk if u not in have]
            rows: list[dict[str, Any]] = [
                {"user_id": u, "course_id": course.id, "registration": str(uuid.uuid4()),
                 "enrolled_at": now, "course_version": version} for u in new_ids]
            if not rows:
                continue
            bulk_insert(Enrollment, rows)
            # A bulk insert runs no ORM hook: the JP summary counts them here, in bulk.
            from lms.reports import summary

            summary.enrolments_added(course.id, new_ids, now)
            made += len(rows)
            if commit:
                session.commit()
    return made


def roll_cycles(assignment: Assignment, on: dt.date | None = None) -> int:
    """A yearly assignment: members still in the audience whose latest cycle's due date
    has passed get the next cycle (due a year later; learning after the old due date
    counts for it). Returns how many rows it added."""
    if not assignment.yearly or assignment.archived_at is not None:
        return 0
    on = on or today()
    session = get_session()
    added = 0
    while True:
        rows = session.execute(
            sa.select(AssignmentMember.user_id, AssignmentMember.cycle,
                      AssignmentMember.due_date)
            .where(AssignmentMember.assignment_id == assignment.id, latest_cycle(),
                   AssignmentMember.left_at.is_(None),
                   AssignmentMember.due_date < on)).all()
        if not rows:
            return added
        for start in range(0, len(rows), CHUNK):
            session.execute(sa.insert(AssignmentMember), [
                {"assignment_id": assignment.id, "user_id": r.user_id, "cycle": r.cycle + 1,
                 "joined_at": r.due_date, "window_start": due_end(r.due_date),
                 "due_date": add_years(r.due_date, 1),
                 "due_end": due_end(add_years(r.due_date, 1)), "left_at": None}
                for r in rows[start:start + CHUNK]])
        added += len(rows)
        session.flush()


def sync_all(on: dt.date | None = None, *, commit: bool = False) -> dict[str, int]:
    """Every open assignment: members, then yearly cycles (the nightly run). With
    ``commit`` (the nightly command and task), each assignment is committed and its
    missing enrolments are made, 1,000 per commit."""
    totals = {"assignments": 0, "joined": 0, "left": 0, "cycles": 0, "enrolled": 0}
    session = get_session()
    for assignment in session.scalars(sa.select(Assignment).where(
            Assignment.archived_at.is_(None)).order_by(Assignment.id)):
        outcome = sync(assignment, on, enrol_now=False)
        totals["assignments"] += 1
        totals["joined"] += outcome.joined + outcome.rejoined
        totals["left"] += outcome.left
        totals["cycles"] += roll_cycles(assignment, on)
        if commit:
            session.commit()
            totals["enrolled"] += enrol_missing(assignment, commit=True)
    return totals


def sync_person(user_id: int, on: dt.date | None = None) -> int:
    """After one person changed (moved, placed, created): each open assignment's row of
    theirs brought in line, one indexed query per assignment; enrols them where the
    assignment enrols at once. Returns how many assignments changed for them."""
    on = on or today()
    session = get_session()
    changed = 0
    for assignment in session.scalars(sa.select(Assignment).where(
            Assignment.archived_at.is_(None)).order_by(Assignment.id)):
        scope = scope_of_unit(assignment.org_unit_id)
        inside = session.scalar(aud.members_query(rules_of(assignment), scope).where(
            PositionAssignment.user_id == user_id).limit(1)) is not None
        row = session.scalar(sa.select(AssignmentMember).where(
            AssignmentMember.assignment_id == assignment.id,
            AssignmentMember.user_id == user_id, latest_cycle()))
        if inside and row is None:
            due = _first_due(assignment, on)
            session.add(AssignmentMember(
                assignment_id=assignment.id, user_id=user_id, cycle=0, joined_at=on,
                window_start=_window(assignment, due), due_date=due, due_end=due_end(due)))
        elif inside and row is not None and row.left_at is not None:
            row.left_at = None
        elif not inside and row is not None and row.left_at is None:
            row.left_at = on
        else:
            continue
        changed += 1
        session.flush()
        if inside and assignment.enrol_now:
            enrol(assignment, [user_id])
    return changed


def sync_open() -> None:
    """After an import (which may move thousands at once): every open assignment in
    bulk, inside the importer's transaction. Enrolments of the newcomers wait for the
    nightly run (:func:`enrol_missing`, 1,000 per commit); they see the assignment at
    once."""
    session = get_session()
    for assignment in session.scalars(sa.select(Assignment).where(
            Assignment.archived_at.is_(None))):
        sync(assignment, enrol_now=False)


# --- status -------------------------------------------------------------------------------


def completed_expr(assignment: Assignment) -> Any:
    """A correlated scalar: when the member completed the target inside their window."""
    if assignment.target_kind == PROGRAM:
        return (sa.select(sa.func.min(ProgramCompletion.completed_at))
                .where(ProgramCompletion.user_id == AssignmentMember.user_id,
                       ProgramCompletion.program_id == assignment.program_id,
                       ProgramCompletion.completed_at >= AssignmentMember.window_start)
                .scalar_subquery())
    ref = assignment.course_id if assignment.target_kind == COURSE else assignment.training_id
    return (sa.select(sa.func.min(LearningFact.completed_at))
            .where(LearningFact.user_id == AssignmentMember.user_id,
                   LearningFact.kind == assignment.target_kind, LearningFact.ref_id == ref,
                   LearningFact.completed_at >= AssignmentMember.window_start)
            .scalar_subquery())


def started_expr(assignment: Assignment) -> Any:
    """Whether the member started (some activity on the target inside the window)."""
    if assignment.target_kind == COURSE:
        from lms.courses.models import CourseProgress

        return sa.exists(sa.select(CourseProgress.id).where(
            CourseProgress.user_id == AssignmentMember.user_id,
            CourseProgress.course_id == assignment.course_id,
            CourseProgress.last_activity_at.is_not(None),
            CourseProgress.last_activity_at >= AssignmentMember.window_start))
    if assignment.target_kind == PROGRAM:
        items = sa.select(ProgramItem.kind, ProgramItem.course_id, ProgramItem.training_id).where(
            ProgramItem.program_id == assignment.program_id)
        refs = [(i.kind, i.course_id or i.training_id) for i in get_session().execute(items)]
        if not refs:
            return sa.false()
        return sa.exists(sa.select(LearningFact.id).where(
            LearningFact.user_id == AssignmentMember.user_id,
            sa.or_(*[sa.and_(LearningFact.kind == k, LearningFact.ref_id == r) for k, r in refs]),
            LearningFact.completed_at >= AssignmentMember.window_start))
    return sa.false()


def status_case(assignment: Assignment, on: dt.date, completed: Any, started: Any) -> Any:
    return sa.case(
        (sa.and_(completed.is_not(None), completed < AssignmentMember.due_end), ON_TIME),
        (completed.is_not(None), LATE),
        (AssignmentMember.due_date < on, OVERDUE),
        (started, IN_PROGRESS),
        else_=ASSIGNED,
    )


def members_with_status(assignment: Assignment, on: dt.date | None = None,
                        include_left: bool = False) -> sa.Select:
    """``SELECT member id, user_id, cycle, due_date, left_at, completed_at, status`` of the
    latest cycle of each member."""
    on = on or today()
    completed = completed_expr(assignment)
    started = started_expr(assignment)
    query = (sa.select(AssignmentMember.id.label("member_id"),
                       AssignmentMember.user_id, AssignmentMember.cycle,
                       AssignmentMember.due_date, AssignmentMember.left_at,
                       completed.label("completed_at"),
                       status_case(assignment, on, completed, started).label("status"))
             .where(AssignmentMember.assignment_id == assignment.id, latest_cycle()))
    if not include_left:
        # People who left stay in the figures only with what they completed.
        query = query.where(sa.or_(AssignmentMember.left_at.is_(None), completed.is_not(None)))
    return query


def compliance(assignment: Assignment, scope: Scope, on: dt.date | None = None
               ) -> dict[str, int]:
    """Counts per status of the members inside ``scope``."""
    sub = _scoped(members_with_status(assignment, on), scope).subquery()
    counts: dict[str, int] = dict(get_session().execute(
        sa.select(sub.c.status, sa.func.count()).group_by(sub.c.status)).all())
    out = {s: int(counts.get(s, 0)) for s in STATUSES}
    out["total"] = sum(out.values())
    return out


def list_figures(assignment_ids: list[int], scope: Scope, on: dt.date | None = None
                 ) -> dict[int, dict[str, int]]:
    """People, completed (on time or late) and overdue of several assignments inside
    ``scope``, in one grouped query (the same figures as :func:`compliance`, without the
    "started" test the list does not show). Any target kind: the completion is the
    earliest course/training fact or program completion inside the member's window."""
    on = on or today()
    out = {i: {"total": 0, "completed": 0, "overdue": 0} for i in assignment_ids}
    if not assignment_ids:
        return out
    fact = (sa.select(sa.func.min(LearningFact.completed_at))
            .where(LearningFact.user_id == AssignmentMember.user_id,
                   LearningFact.kind == Assignment.target_kind,
                   LearningFact.ref_id == sa.func.coalesce(Assignment.course_id,
                                                           Assignment.training_id),
                   LearningFact.completed_at >= AssignmentMember.window_start)
            .scalar_subquery())
    program = (sa.select(sa.func.min(ProgramCompletion.completed_at))
               .where(ProgramCompletion.user_id == AssignmentMember.user_id,
                      ProgramCompletion.program_id == Assignment.program_id,
                      ProgramCompletion.completed_at >= AssignmentMember.window_start)
               .scalar_subquery())
    completed = sa.case((Assignment.target_kind == PROGRAM, program), else_=fact)
    rows = _scoped(
        sa.select(AssignmentMember.assignment_id, AssignmentMember.due_date,
                  AssignmentMember.left_at, completed.label("completed_at"))
        .join(Assignment, Assignment.id == AssignmentMember.assignment_id)
        .where(AssignmentMember.assignment_id.in_(assignment_ids), latest_cycle()),
        scope).subquery()
    done = rows.c.completed_at.is_not(None)
    query = (sa.select(rows.c.assignment_id, sa.func.count(),
                       sa.func.count(rows.c.completed_at),
                       sa.func.sum(sa.case((sa.and_(~done, rows.c.due_date < on), 1),
                                           else_=0)))
             .where(sa.or_(rows.c.left_at.is_(None), done))
             .group_by(rows.c.assignment_id))
    for assignment_id, total, completed_count, overdue in get_session().execute(query):
        out[assignment_id] = {"total": int(total), "completed": int(completed_count),
                              "overdue": int(overdue or 0)}
    return out


def _scoped(query: sa.Select, scope: Scope) -> sa.Select:
    """Members inside ``scope`` by their current unit (people without a position now are
    kept for a scope of everyone only)."""
    if scope.path is None:
        return query
    from lms.reports.scope import scoped_employees

    inside = scoped_employees(scope).subquery()
    return query.where(AssignmentMember.user_id.in_(sa.select(inside.c.user_id)))


def by_unit(assignment: Assignment, scope: Scope, on: dt.date | None = None
            ) -> list[dict[str, Any]]:
    """Counts per status for each OPD (or each child unit of a narrower scope)."""
    from lms.reports.scope import scoped_employees

    sub = _scoped(members_with_status(assignment, on), scope).subquery()
    emp = scoped_employees(scope).subquery()
    rows = get_session().execute(
        sa.select(emp.c.path, sub.c.status, sa.func.count())
        .join(emp, emp.c.user_id == sub.c.user_id)
        .group_by(emp.c.path, sub.c.status)).all()
    depth = (scope.path.count("/") - 1) if scope.path else 1
    # Group at the level below the scope's unit (OPDs for a Pemda-wide scope).
    groups: dict[int, dict[str, int]] = {}
    for path, status, n in rows:
        parts = [p for p in (path or "").strip("/").split("/") if p]
        key = int(parts[min(depth, len(parts) - 1)]) if parts else 0
        group = groups.setdefault(key, {s: 0 for s in STATUSES})
        group[status] += n
    names = dict(get_session().execute(sa.select(OrgUnit.id, OrgUnit.name).where(
        OrgUnit.id.in_(list(groups)))).all()) if groups else {}
    out = []
    for key, counts in groups.items():
        total = sum(counts.values())
        done = counts[ON_TIME] + counts[LATE]
        out.append({"unit_id": key, "unit": names.get(key, "-"), **counts, "total": total,
                    "rate": round(100 * done / total, 1) if total else 0.0})
    out.sort(key=lambda r: str(r["unit"]))
    return out


def people(assignment: Assignment, scope: Scope, *, status: str | None = None,
           unit: OrgUnit | None = None, on: dt.date | None = None) -> sa.Select:
    """The members (drill-down): name, NIP, unit, due date, completed, status."""
    from lms.reports.scope import narrow, scoped_employees

    if unit is not None:
        scope = narrow(scope, unit)
    sub = members_with_status(assignment, on, include_left=True).subquery()
    emp = scoped_employees(scope).subquery() if scope.path is not None else None
    query = (sa.select(User.id, User.name, User.nip, sub.c.due_date, sub.c.completed_at,
                       sub.c.status, sub.c.left_at, sub.c.cycle)
             .join(sub, sub.c.user_id == User.id))
    if emp is not None:
        query = query.where(User.id.in_(sa.select(emp.c.user_id)))
    else:
        query = query.where(sa.or_(sub.c.left_at.is_(None), sub.c.completed_at.is_not(None)))
    if status in STATUSES:
        query = query.where(sub.c.status == status)
    return query.order_by(User.name, User.id)


# --- the learner --------------------------------------------------------------------------


def my_assignments(user: User, on: dt.date | None = None) -> list[dict[str, Any]]:
    """The learner's open and recently done assignments, soonest due first."""
    on = on or today()
    session = get_session()
    out = []
    for assignment in session.scalars(
            sa.select(Assignment).where(
                Assignment.archived_at.is_(None),
                Assignment.id.in_(sa.select(AssignmentMember.assignment_id).where(
                    AssignmentMember.user_id == user.id,
                    AssignmentMember.left_at.is_(None))))
            .order_by(Assignment.id)):
        row = session.execute(members_with_status(assignment, on).where(
            AssignmentMember.user_id == user.id)).first()
        if row is None:
            continue
        out.append({"assignment": assignment, "due_date": row.due_date,
                    "status": row.status, "completed_at": row.completed_at,
                    "url": target_url(assignment),
                    "days_left": (row.due_date - on).days})
    done = {ON_TIME, LATE}
    out.sort(key=lambda r: (r["status"] in done, r["due_date"]))
    return out


def target_url(assignment: Assignment, external: bool = False) -> str:
    from flask import url_for

    session = get_session()
    if assignment.target_kind == COURSE:
        from lms.courses.models import Course

        course = session.get(Course, assignment.course_id)
        return url_for("courses.course", slug=course.slug, _external=external) if course else "#"
    if assignment.target_kind == PROGRAM:
        return url_for("assignments.program_mine", program_id=assignment.program_id,
                       _external=external)
    return url_for("assignments.training_info", assignment_id=assignment.id,
                   _external=external)


def target_title(assignment: Assignment) -> str:
    session = get_session()
    if assignment.target_kind == COURSE:
        from lms.courses.models import Course

        course = session.get(Course, assignment.course_id)
        return course.title if course else "-"
    if assignment.target_kind == PROGRAM:
        program = session.get(Program, assignment.program_id)
        return program.title if program else "-"
    from lms.reports.models import Training

    training = session.get(Training, assignment.training_id)
    return training.title if training else "-"


def update_assignment(assignment: Assignment, *, title: str, due_date: dt.date | None,
                      due_days: int | None, remind_before: str, remind_on_due: bool,
                      remind_after: str, escalate_after: int | None) -> int:
    """HR edits an open assignment's title, due date rule and reminder schedule.

    A changed due rule gives every member still in their first cycle a new due date
    (from the day they joined) and forgets the reminder stages they were sent, so the
    schedule runs again for the new date; rows of later yearly cycles keep theirs.
    Returns how many members got a new due date."""
    if assignment.archived_at is not None:
        raise ValidationError(_("This assignment is closed: it cannot be changed."),
                              field="title")
    if (due_date is None) == (due_days is None):
        raise ValidationError(_("Give a due date, or a number of days after joining."),
                              field="due_date")
    if due_days is not None and not 1 <= due_days <= 3650:
        raise ValidationError(_("Days after joining: from 1 to 3650."), field="due_days")
    before = parse_days(remind_before, "remind_before")
    after = parse_days(remind_after, "remind_after")
    assignment.title = (title or "").strip()[:200] or target_title(assignment)[:200]
    assignment.remind_before, assignment.remind_after = before, after
    assignment.remind_on_due = remind_on_due
    assignment.escalate_after = escalate_after
    if (due_date, due_days) == (assignment.due_date, assignment.due_days):
        get_session().flush()
        return 0
    assignment.due_date, assignment.due_days = due_date, due_days
    session = get_session()
    session.flush()
    first = sa.and_(AssignmentMember.assignment_id == assignment.id,
                    AssignmentMember.cycle == 0)
    changed = 0
    # Members who joined on the same day share a due date: one UPDATE per joining day.
    for joined in session.scalars(sa.select(AssignmentMember.joined_at).where(first)
                                  .distinct()).all():
        due = _first_due(assignment, joined)
        rows = sa.and_(first, AssignmentMember.joined_at == joined,
                       AssignmentMember.due_date != due)
        ids = sa.select(AssignmentMember.id).where(rows).scalar_subquery()
        session.execute(sa.delete(ReminderSent).where(ReminderSent.member_id.in_(ids)))
        result = session.execute(sa.update(AssignmentMember).where(rows).values(
            due_date=due, due_end=due_end(due), window_start=_window(assignment, due)))
        changed += getattr(result, "rowcount", 0) or 0  # a CursorResult for an UPDATE
    session.flush()
    return changed


def program_editable(program: Program) -> bool:
    """A program can be edited until someone completes it: a completion (and its
    certificate) must keep meaning what the program was when it was earned."""
    return get_session().scalar(sa.select(ProgramCompletion.id).where(
        ProgramCompletion.program_id == program.id).limit(1)) is None


def _check_program_parts(items: list[tuple[str, int]], rule: str,
                         required_count: int | None, scope: Scope) -> None:
    """What a new or edited program must satisfy: 1 to 50 parts, each in the scope, and a
    completion rule that can be met."""
    from lms.assignments.models import PROGRAM_RULES, RULE_N_OF_M

    if not items:
        raise ValidationError(_("A program needs at least one part."), field="items")
    if len(items) > 50:
        raise ValidationError(_("A program has at most 50 parts."), field="items")
    if rule not in PROGRAM_RULES:
        raise ValidationError(_("Choose when the program is completed."), field="rule")
    if rule == RULE_N_OF_M and not (required_count and 1 <= required_count <= len(items)):
        raise ValidationError(_("N must be between 1 and the number of parts (%(n)d).",
                                n=len(items)), field="required_count")
    for kind, ident in items:
        _target_exists(kind, ident, scope)


def update_program(program: Program, *, title: str, description: str,
                   items: list[tuple[str, int]], rule: str, required_count: int | None,
                   validity_months: int | None, reopen_days: int, scope: Scope) -> Program:
    from lms.assignments.models import RULE_N_OF_M

    if not program_editable(program):
        raise ValidationError(_("Someone has completed this program already: it can no "
                                "longer be changed. Make a new program instead."),
                              field="items")
    _check_program_parts(items, rule, required_count, scope)
    program.title = title.strip()[:200]
    program.description = description.strip()
    program.rule = rule
    program.required_count = required_count if rule == RULE_N_OF_M else None
    program.validity_months = validity_months or None
    program.reopen_days = reopen_days or 0
    program.items.clear()
    session = get_session()
    session.flush()
    for position, (kind, ident) in enumerate(items):
        program.items.append(ProgramItem(
            position=position, kind=kind, course_id=ident if kind == COURSE else None,
            training_id=ident if kind == TRAINING else None))
    session.flush()
    from lms.assignments.ledger import derive_program_for_all

    derive_program_for_all(program)  # people who did the new parts already
    return program


def archive(assignment: Assignment) -> None:
    assignment.archived_at = utcnow()
    get_session().flush()



def target_url_absolute(assignment: Assignment) -> str:
    """:func:`target_url` as an absolute link (e-mails, also outside a request)."""
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    with current_app.test_request_context("/", base_url=base):
        return target_url(assignment, external=True)


def rules_of_spec(spec: AssignmentSpec) -> dict[str, Any]:
    if spec.audience_id is not None:
        saved = get_session().get(Audience, spec.audience_id)
        return dict(saved.rules) if saved is not None else {}
    return aud.clean_rules(spec.rules)


# --- learning programs --------------------------------------------------------------------


def ordered_items(selected: list[str], order: str) -> list[tuple[str, int]]:
    """``["course:3", "training:9"]`` in the order ``order`` names them (codes separated by
    commas), the rest after in the order given."""
    wanted = [c.strip() for c in (order or "").split(",") if c.strip()]
    chosen = list(dict.fromkeys(selected or []))
    ordered = [c for c in wanted if c in chosen] + [c for c in chosen if c not in wanted]
    out = []
    for code in ordered:
        kind, _sep, ident = code.partition(":")
        if kind not in (COURSE, TRAINING) or not ident.isdigit():
            raise ValidationError(_("Choose courses and offline trainings."), field="items")
        out.append((kind, int(ident)))
    return out


def create_program(*, title: str, description: str, items: list[tuple[str, int]], rule: str,
                   required_count: int | None, validity_months: int | None, reopen_days: int,
                   by: User | None, scope: Scope) -> Program:
    from lms.assignments.models import RULE_N_OF_M

    _check_program_parts(items, rule, required_count, scope)
    program = Program(title=title.strip()[:200], description=description.strip(), rule=rule,
                      required_count=required_count if rule == RULE_N_OF_M else None,
                      validity_months=validity_months or None, reopen_days=reopen_days or 0,
                      org_unit_id=scope.unit.id if scope.unit is not None else None,
                      created_by_id=by.id if by is not None else None)
    for position, (kind, ident) in enumerate(items):
        program.items.append(ProgramItem(
            position=position, kind=kind, course_id=ident if kind == COURSE else None,
            training_id=ident if kind == TRAINING else None))
    session = get_session()
    session.add(program)
    session.flush()
    from lms.assignments.ledger import derive_program_for_all

    derive_program_for_all(program)  # people who did the parts already
    return program


def program_parts(program: Program) -> list[dict[str, Any]]:
    session = get_session()
    out = []
    for item in program.items:
        if item.kind == COURSE:
            from lms.courses.models import Course

            found = session.get(Course, item.course_id)
            out.append({"item": item, "title": found.title if found else "-",
                        "jp": float(found.jp) if found else 0.0,
                        "slug": found.slug if found else None})
        else:
            from lms.reports.models import Training

            training = session.get(Training, item.training_id)
            out.append({"item": item, "title": training.title if training else "-",
                        "jp": float(training.jp) if training else 0.0, "slug": None})
    return out


def program_jp(program: Program) -> float:
    return round(sum(p["jp"] for p in program_parts(program)), 2)


def program_visible_to(program: Program, user: User) -> bool:
    """A learner sees a program assigned to them (or one they completed); HR in scope."""
    session = get_session()
    if user.has_role("hr", "admin"):
        return True
    assigned = session.scalar(sa.select(AssignmentMember.id).join(
        Assignment, Assignment.id == AssignmentMember.assignment_id).where(
        Assignment.program_id == program.id, AssignmentMember.user_id == user.id).limit(1))
    if assigned is not None:
        return True
    return session.scalar(sa.select(ProgramCompletion.id).where(
        ProgramCompletion.program_id == program.id,
        ProgramCompletion.user_id == user.id).limit(1)) is not None


def program_state(program: Program, user: User, now: dt.datetime | None = None
                  ) -> dict[str, Any]:
    """The learner's view: each part done or not (in the current round), the latest
    completion, and whether it is valid, reopened for recertification or lapsed."""
    from lms.assignments.ledger import _facts

    now = now or utcnow()
    session = get_session()
    latest = session.scalar(sa.select(ProgramCompletion).where(
        ProgramCompletion.program_id == program.id, ProgramCompletion.user_id == user.id)
        .order_by(ProgramCompletion.completed_at.desc()).limit(1))
    since = EVER
    state = "open"
    if latest is not None:
        if latest.expires_at is None:
            state = "valid"
        else:
            reopen = latest.expires_at - dt.timedelta(days=program.reopen_days or 0)
            if now >= latest.expires_at:
                state, since = "lapsed", reopen
            elif now >= reopen:
                state, since = "reopened", reopen
            else:
                state = "valid"
    times = _facts(program, user.id)
    parts = program_parts(program)
    for part, done in zip(parts, times, strict=True):
        part["done"] = any(t >= since for t in done) if state != "valid" else bool(done)
    return {"parts": parts, "latest": latest, "state": state,
            "done": sum(1 for p in parts if p["done"])}
