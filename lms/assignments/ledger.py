"""The ``assignments`` statement consumer: completions of courses and recorded offline
training, by the same rules as the courses ledger and the JP ledger, each one kept (not
only the first), and the program completions they add up to.

A statement written with a launch credential about anything but its own activity never
counts (:func:`lms.courses.ledger.completed_course_slug` decides for courses; training
statements written under any launch are ignored, as the JP ledger does). Voiding takes
the fact away and the person's program completions are derived again.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

import sqlalchemy as sa

from lms.assignments.models import (
    COURSE,
    RULE_IN_ORDER,
    RULE_N_OF_M,
    TRAINING,
    LearningFact,
    Program,
    ProgramCompletion,
    ProgramItem,
)
from lms.db import get_session

try:
    from lms.xapi.consumers import StatementConsumer, StoredStatement
except ImportError:  # pragma: no cover
    StatementConsumer = object  # type: ignore[assignment,misc]
    StoredStatement = Any  # type: ignore[assignment,misc]

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"


def _months_later(when: dt.datetime, months: int) -> dt.datetime:
    month = when.month - 1 + months
    year = when.year + month // 12
    month = month % 12 + 1
    day = min(when.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
                         31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
    return when.replace(year=year, month=month, day=day)


def program_certificate_number(program_id: int, user_id: int, when: dt.datetime) -> str:
    digest = hashlib.sha256(f"program:{program_id}:{user_id}:{when.isoformat()}".encode()
                            ).digest()
    code = base64.b32encode(digest).decode()[:12]
    return f"LTP-{when.year}-{code[:4]}-{code[4:8]}-{code[8:]}"


def _may_be_a_fact(verb_id: str | None, activity_id: str | None) -> bool:
    """Whether :func:`fact_of` can find a fact in a statement with this verb about this
    object (the object's id when it is an Activity, else None): a course itself, or a
    recorded training that the statement completes."""
    from lms.reports.training import completable_iri, parse_training_iri

    if not completable_iri(activity_id):
        return False
    return verb_id == COMPLETED or parse_training_iri(str(activity_id)) is None


def fact_of(data: dict[str, Any]) -> tuple[str, int] | None:
    """``(kind, id)`` of the course or recorded training a statement completes, if any."""
    from lms.courses.ledger import completed_course_slug

    slug = completed_course_slug(data)
    if slug is not None:
        from lms.courses.models import Course

        course_id = get_session().scalar(sa.select(Course.id).where(Course.slug == slug))
        return (COURSE, course_id) if course_id is not None else None
    from lms.reports.training import jp_extension, parse_training_iri
    from lms.xapi.launch import origin_of

    if (data.get("verb") or {}).get("id") != COMPLETED or origin_of(data) is not None:
        return None
    obj = data.get("object") or {}
    if obj.get("objectType", "Activity") != "Activity":
        return None
    training_id = parse_training_iri(str(obj.get("id") or ""))
    if training_id is None:
        return None
    jp = ((data.get("result") or {}).get("extensions") or {}).get(jp_extension())
    if isinstance(jp, bool) or not isinstance(jp, int | float) or jp <= 0:
        return None
    return TRAINING, training_id


class AssignmentsLedger(StatementConsumer):  # type: ignore[misc,valid-type]
    name = "assignments"
    shares_statements = True  # reads statements, never changes them

    def relevant(self, statements: list[StoredStatement]) -> list[StoredStatement]:
        from lms.xapi.consumers import with_verbs
        from lms.xapi.validation.verbs import VOIDED

        # fact_of: a course completed (completed, or passed with completion) or a training
        # completed; the verb and the object's id are read from the indexed columns.
        return [s for s in with_verbs(statements, (COMPLETED, PASSED))
                if s.verb_id == VOIDED or _may_be_a_fact(s.verb_id, s.activity_id)]

    def handle(self, statement: StoredStatement) -> None:
        data = statement.data
        found = fact_of(data)
        if found is None:
            return
        from lms.xapi.actors import user_for_actor
        from lms.xapi.validation.common import statement_time

        user = user_for_actor(data.get("actor"))
        if user is None:
            return
        session = get_session()
        statement_id = statement.id.lower()
        if session.scalar(sa.select(LearningFact.id).where(
                LearningFact.statement_id == statement_id)) is not None:
            return
        kind, ref_id = found
        session.add(LearningFact(user_id=user.id, kind=kind, ref_id=ref_id,
                                 completed_at=statement_time(data.get("timestamp"),
                                                             statement.stored),
                                 statement_id=statement_id))
        session.flush()
        derive_programs(user.id, kind, ref_id)

    def handle_voiding(self, voided_id: str, voiding: StoredStatement) -> None:
        session = get_session()
        fact = session.scalar(sa.select(LearningFact).where(
            LearningFact.statement_id == voided_id.lower()))
        if fact is None:
            return
        user_id, kind, ref_id = fact.user_id, fact.kind, fact.ref_id
        session.delete(fact)
        session.flush()
        derive_programs(user_id, kind, ref_id)

    def reset(self) -> None:
        session = get_session()
        session.execute(sa.delete(ProgramCompletion))
        session.execute(sa.delete(LearningFact))
        session.flush()


def programs_with(kind: str, ref_id: int) -> list[int]:
    column = ProgramItem.course_id if kind == COURSE else ProgramItem.training_id
    return list(get_session().scalars(sa.select(ProgramItem.program_id).where(
        ProgramItem.kind == kind, column == ref_id).distinct()))


def derive_programs(user_id: int, kind: str, ref_id: int) -> None:
    for program_id in programs_with(kind, ref_id):
        program = get_session().get(Program, program_id)
        if program is not None:
            derive_program(program, user_id)


def _facts(program: Program, user_id: int) -> list[list[dt.datetime]]:
    """For each item in order, the times the person completed it (ascending)."""
    session = get_session()
    times: list[list[dt.datetime]] = []
    rows = session.execute(sa.select(LearningFact.kind, LearningFact.ref_id,
                                     LearningFact.completed_at)
                           .where(LearningFact.user_id == user_id)
                           .order_by(LearningFact.completed_at)).all()
    for item in program.items:
        ref = item.course_id if item.kind == COURSE else item.training_id
        times.append([t for k, r, t in rows if k == item.kind and r == ref])
    return times


def rule_met_at(program: Program, times: list[list[dt.datetime]],
                since: dt.datetime) -> dt.datetime | None:
    """The first instant at which the program's rule is met by completions from ``since``
    on, or None."""
    firsts = [next((t for t in item if t >= since), None) for item in times]
    if not times:
        return None
    if program.rule == RULE_IN_ORDER:
        at = since
        for item in times:
            found = next((t for t in item if t >= at), None)
            if found is None:
                return None
            at = found
        return at
    done = sorted(t for t in firsts if t is not None)
    need = len(times)
    if program.rule == RULE_N_OF_M:
        need = max(1, min(program.required_count or need, need))
    if len(done) < need:
        return None
    return done[need - 1]


def completions_for(program: Program, times: list[list[dt.datetime]]
                    ) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """Every completion (with its lapse) the facts give: after a completion with validity,
    the program reopens ``reopen_days`` before the lapse and must be met again."""
    out: list[tuple[dt.datetime, dt.datetime | None]] = []
    since = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
    while len(out) < 100:
        at = rule_met_at(program, times, since)
        if at is None:
            break
        if not program.validity_months:
            out.append((at, None))
            break
        expires = _months_later(at, program.validity_months)
        out.append((at, expires))
        reopen = expires - dt.timedelta(days=program.reopen_days or 0)
        since = max(reopen, at + dt.timedelta(seconds=1))
    return out


def derive_program(program: Program, user_id: int) -> None:
    """Store the person's completions of ``program`` as the facts give them now."""
    session = get_session()
    wanted = completions_for(program, _facts(program, user_id))
    have = {row.completed_at: row for row in session.scalars(
        sa.select(ProgramCompletion).where(ProgramCompletion.program_id == program.id,
                                           ProgramCompletion.user_id == user_id))}
    keep = {at for at, _e in wanted}
    for at, row in have.items():
        if at not in keep:
            session.delete(row)
    for at, expires in wanted:
        if at in have:
            have[at].expires_at = expires
            continue
        session.add(ProgramCompletion(
            program_id=program.id, user_id=user_id, completed_at=at, expires_at=expires,
            certificate_number=program_certificate_number(program.id, user_id, at)))
    session.flush()


def derive_program_for_all(program: Program) -> None:
    """After a program's items or rule changed: everyone with a fact on one of its items."""
    session = get_session()
    refs = [(i.kind, i.course_id if i.kind == COURSE else i.training_id) for i in program.items]
    users: set[int] = set(session.scalars(sa.select(ProgramCompletion.user_id).where(
        ProgramCompletion.program_id == program.id)))
    for kind, ref in refs:
        users.update(session.scalars(sa.select(LearningFact.user_id).where(
            LearningFact.kind == kind, LearningFact.ref_id == ref).distinct()))
    for user_id in sorted(users):
        derive_program(program, user_id)
