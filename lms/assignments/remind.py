"""Reminders and escalation through the outbox (``lms assignments remind``, daily).

For each open assignment, each member who has not completed gets at most one e-mail a
run: the latest stage of HR's schedule whose day has come (``b7`` seven days before the
due date, ``d0`` on it, ``a3`` three days after), never a stage twice, and the earlier
stages a late run skipped are marked as passed. ``escalate_after`` days after the due
date, the nearest supervisors get one e-mail per assignment listing their overdue people.

The run is set-based: one query finds the members with a stage due, the e-mails are
written to the outbox in bulk (opt-outs respected) with the stages in the same
transaction, so 100,000 members take seconds and a second run the same day sends nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.assignments import service
from lms.assignments.models import Assignment, AssignmentMember, ReminderSent
from lms.db import get_session, utcnow
from lms.mail import recipient_locale, register_category
from lms.people.models import (
    MANAGERIAL_KINDS,
    OrgUnit,
    Position,
    PositionAssignment,
    User,
)

REMINDER = "assignments.reminder"
ESCALATION = "assignments.escalation"
ASSIGNED = "assignments.assigned"
CHUNK = 2000


def register() -> None:
    register_category(REMINDER, _l("Mandatory learning due soon or overdue"), _l("Employees"),
                      description=_l("Before, on and after the due date of learning HR "
                                     "assigned to you."), optional=False)
    register_category(ESCALATION, _l("Your staff's mandatory learning is overdue"),
                      _l("Supervisors"),
                      description=_l("When people in the units you lead have not completed "
                                     "learning HR assigned to them by its due date."))


def stages(assignment: Assignment, due: dt.date) -> list[tuple[dt.date, str]]:
    """The learner's stages of one due date: (day, name), earliest first."""
    out = [(due - dt.timedelta(days=d), f"b{d}") for d in service.days_of(
        assignment.remind_before)]
    if assignment.remind_on_due:
        out.append((due, "d0"))
    out += [(due + dt.timedelta(days=d), f"a{d}") for d in service.days_of(
        assignment.remind_after)]
    return sorted(out)


def _window(assignment: Assignment, on: dt.date) -> tuple[dt.date, dt.date]:
    before = max(service.days_of(assignment.remind_before) or [0])
    after = max(service.days_of(assignment.remind_after) + [assignment.escalate_after or 0])
    return on - dt.timedelta(days=after + 30), on + dt.timedelta(days=before)


def _footer_for(locale: str, category: str) -> str:
    from lms.mail.categories import get_category
    from lms.mail.service import _footer

    class _Reader:  # the footer only needs the reader's language
        def __init__(self, loc: str):
            self.locale = loc

    found = get_category(category)
    return _footer(_Reader(locale), found) if found is not None else ""


class _Outbox:
    """Rows for the outbox, written in bulk; texts made once per language and stage."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.footers: dict[tuple[str, str], str] = {}

    def add(self, user: Any, locale: str, subject: str, text: str, category: str) -> None:
        key = (locale, category)
        if key not in self.footers:
            self.footers[key] = _footer_for(locale, category)
        self.rows.append({"to_address": user.email, "user_id": user.id,
                          "subject": " ".join(subject.split())[:300],
                          "text": text.rstrip() + self.footers[key], "html": None,
                          "category": category, "status": "queued", "attempts": 0,
                          "created": utcnow(), "key": None})

    def flush(self) -> int:
        from lms.db import bulk_insert
        from lms.mail.models import OutboxMessage
        from lms.mail.service import PENDING_KEY

        session = get_session()
        count = len(self.rows)
        bulk_insert(OutboxMessage, self.rows)
        if count:
            session.info[PENDING_KEY] = current_app._get_current_object()  # type: ignore[attr-defined]
        self.rows = []
        return count


def _opted_out(category: str) -> set[int]:
    """Everyone who turned ``category`` off (a short list: most people keep their mail)."""
    from lms.mail.models import MailOptOut

    return set(get_session().scalars(sa.select(MailOptOut.user_id).where(
        MailOptOut.category == category)))


def _valid(user: Any) -> bool:
    from lms.mail.service import valid_address

    return bool(user.active and user.email and valid_address(str(user.email).strip()))


def remind_assignment(assignment: Assignment, on: dt.date, outbox: _Outbox) -> dict[str, int]:
    session = get_session()
    low, high = _window(assignment, on)
    query = service.members_with_status(assignment, on).where(
        AssignmentMember.left_at.is_(None), AssignmentMember.due_date >= low,
        AssignmentMember.due_date <= high)
    sub = query.subquery()
    # The recipients' addresses come with the members: no lists of ids sent back.
    rows = session.execute(
        sa.select(sub.c.member_id, sub.c.user_id, sub.c.due_date, User.id, User.name,
                  User.email, User.active, User.locale)
        .join(User, User.id == sub.c.user_id)
        .where(sub.c.completed_at.is_(None))).all()
    if not rows:
        return {"reminders": 0, "escalations": 0}
    sent: dict[int, set[str]] = defaultdict(set)
    for member_id, stage in session.execute(
            sa.select(ReminderSent.member_id, ReminderSent.stage)
            .join(AssignmentMember, AssignmentMember.id == ReminderSent.member_id)
            .where(AssignmentMember.assignment_id == assignment.id,
                   AssignmentMember.due_date >= low, AssignmentMember.due_date <= high)):
        sent[member_id].add(stage)
    marks: list[dict[str, Any]] = []
    to_remind: list[tuple[Any, str, dt.date]] = []
    overdue_for_escalation: list[Any] = []
    now = utcnow()
    due_stages_of: dict[dt.date, list[str]] = {}
    escalate_from = (None if assignment.escalate_after is None
                     else dt.timedelta(days=assignment.escalate_after))
    for row in rows:
        names = due_stages_of.get(row.due_date)
        if names is None:
            names = due_stages_of[row.due_date] = [
                name for day, name in stages(assignment, row.due_date) if day <= on]
        done = sent.get(row.member_id, ())
        if names and names[-1] not in done:
            to_remind.append((row, names[-1], row.due_date))
            marks.extend({"member_id": row.member_id, "stage": name, "sent_at": now}
                         for name in names if name not in done)
        if (escalate_from is not None and "esc" not in done
                and on >= row.due_date + escalate_from):
            overdue_for_escalation.append(row)
            marks.append({"member_id": row.member_id, "stage": "esc", "sent_at": now})
    reminders = _send_reminders(assignment, to_remind, on, outbox)
    escalations = _escalate(assignment, overdue_for_escalation, outbox)
    from lms.db import bulk_insert

    bulk_insert(ReminderSent, marks)
    return {"reminders": reminders, "escalations": escalations}


def _users(user_ids: list[int]) -> dict[int, Any]:
    session = get_session()
    out: dict[int, Any] = {}
    for start in range(0, len(user_ids), 5000):
        for row in session.execute(sa.select(User.id, User.name, User.email, User.active,
                                             User.locale).where(
                User.id.in_(user_ids[start:start + 5000]))):
            out[row.id] = row
    return out


def _send_reminders(assignment: Assignment, items: list[tuple[Any, str, dt.date]],
                    on: dt.date, outbox: _Outbox) -> int:
    if not items:
        return 0
    off = _opted_out(REMINDER) if items else set()
    link = service.target_url_absolute(assignment)
    title = service.target_title(assignment)
    texts: dict[tuple[str, str, dt.date], tuple[str, str]] = {}
    count = 0
    for row, stage, due in items:
        user = row  # the member's row carries id, name, email, active and locale
        if not _valid(user) or user.id in off:
            continue
        locale = recipient_locale(user)
        key = (locale, stage[0], due)
        if key not in texts:
            with force_locale(locale):
                when = format_date(due, "long")
                if stage.startswith("b"):
                    subject = _("Reminder: %(title)s is due on %(date)s", title=title,
                                date=when)
                    text = _("HR assigned you \"%(title)s\". Please complete it by "
                             "%(date)s.", title=title, date=when)
                elif stage == "d0":
                    subject = _("Due today: %(title)s", title=title)
                    text = _("\"%(title)s\", which HR assigned you, is due today (%(date)s).",
                             title=title, date=when)
                else:
                    subject = _("Overdue: %(title)s (due %(date)s)", title=title, date=when)
                    text = _("\"%(title)s\", which HR assigned you, was due on %(date)s and "
                             "is not completed yet. Please complete it as soon as you can; "
                             "your supervisor may be told.", title=title, date=when)
                text += "\n\n" + _("Open it:") + "\n" + link
            texts[key] = (subject, text)
        subject, text = texts[key]
        outbox.add(user, locale, subject, text, REMINDER)
        count += 1
    return count


def nearest_supervisors_by_unit(unit_paths: dict[int, str]) -> dict[int, list[int]]:
    """For each org unit id: the holders of managerial positions in the nearest unit on
    its path (the unit itself or an ancestor) that has any."""
    session = get_session()
    managers: dict[int, list[int]] = defaultdict(list)
    for user_id, unit_id in session.execute(
            sa.select(PositionAssignment.user_id, Position.org_unit_id)
            .join(Position, Position.id == PositionAssignment.position_id)
            .join(User, User.id == PositionAssignment.user_id)
            .where(PositionAssignment.end_date.is_(None), User.active.is_(True),
                   Position.kind.in_(MANAGERIAL_KINDS))):
        managers[unit_id].append(user_id)
    out: dict[int, list[int]] = {}
    for unit_id, path in unit_paths.items():
        ids = [int(p) for p in (path or "").strip("/").split("/") if p.isdigit()]
        for ancestor in reversed(ids):
            if managers.get(ancestor):
                out[unit_id] = managers[ancestor]
                break
    return out


def _escalate(assignment: Assignment, rows: list[Any], outbox: _Outbox) -> int:
    if not rows:
        return 0
    session = get_session()
    units: dict[int, tuple[int, str]] = {}
    ids = [r.user_id for r in rows]
    for start in range(0, len(ids), 5000):
        for user_id, unit_id, path in session.execute(
                sa.select(PositionAssignment.user_id, OrgUnit.id, OrgUnit.path)
                .join(Position, Position.id == PositionAssignment.position_id)
                .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
                .where(PositionAssignment.end_date.is_(None),
                       PositionAssignment.user_id.in_(ids[start:start + 5000]))):
            units[user_id] = (unit_id, path)
    supervisors = nearest_supervisors_by_unit({u: p for u, p in units.values()})
    people = _users(ids)
    per_supervisor: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        found = units.get(row.user_id)
        if found is None:
            continue
        for supervisor_id in supervisors.get(found[0], []):
            if supervisor_id != row.user_id:
                per_supervisor[supervisor_id].append(row)
    bosses = _users(list(per_supervisor))
    off = _opted_out(ESCALATION)
    title = service.target_title(assignment)
    count = 0
    for supervisor_id, late in per_supervisor.items():
        boss = bosses.get(supervisor_id)
        if boss is None or not _valid(boss) or supervisor_id in off:
            continue
        locale = recipient_locale(boss)
        with force_locale(locale):
            subject = _("Overdue mandatory learning in your unit: %(title)s", title=title)
            lines = [_("These people you supervise have not completed \"%(title)s\" by its "
                       "due date:", title=title), ""]
            for row in sorted(late, key=lambda r: people[r.user_id].name)[:200]:
                lines.append(f"- {people[row.user_id].name} "
                             f"({format_date(row.due_date, 'medium')})")
            if len(late) > 200:
                lines.append(_("... and %(n)d more.", n=len(late) - 200))
        outbox.add(boss, locale, subject, "\n".join(lines), ESCALATION)
        count += 1
    return count


def remind_all(on: dt.date | None = None) -> dict[str, int]:
    """Every open assignment's reminders for ``on`` (today in the Pemda): the daily run.
    The caller commits."""
    on = on or service.today()
    session = get_session()
    totals = {"assignments": 0, "reminders": 0, "escalations": 0}
    outbox = _Outbox()
    for assignment in session.scalars(sa.select(Assignment).where(
            Assignment.archived_at.is_(None)).order_by(Assignment.id)):
        found = remind_assignment(assignment, on, outbox)
        totals["assignments"] += 1
        totals["reminders"] += found["reminders"]
        totals["escalations"] += found["escalations"]
        outbox.flush()
    session.flush()
    return totals




