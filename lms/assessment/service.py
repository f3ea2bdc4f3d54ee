"""Competency assessment: rounds, questionnaires, results as xAPI statements.

Plain values in, models out; functions flush and never commit.

Each submitted rater entry stores one statement per competency through the LRS
(:func:`lms.xapi.service.store_statements`): actor the *assessed* employee (account
``{"homePage": LMS_BASE_URL, "name": NIP}``), verb ``scored``, object the stable activity
``<LMS_BASE_URL>/assessment/competency/<code>/<role>``, result the level (raw 0..5, scaled
level / 5), context the rater (``instructor`` for a supervisor or the HR officer recording
an assessment centre, ``team`` for 360 peers and subordinates), the round as registration
and parent. Evidence rules ``assessment:<code>:<role>`` (made through the competency
service, so versioned like any rule) turn them into evidence with the role's source.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from lms.assessment.models import (
    AssessmentDraft,
    AssessmentRater,
    AssessmentRound,
    RaterRole,
    RoundKind,
)
from lms.assessment.scoring import BANDS, SCALE, level_from_answers, mean, scaled
from lms.competency import service as competency
from lms.competency.models import Competency, Criterion, EvidenceSource
from lms.db import get_session, utcnow
from lms.errors import Forbidden, NotFound, ValidationError
from lms.people.models import (
    MANAGERIAL_KINDS,
    OrgUnit,
    Position,
    PositionAssignment,
    Role,
    User,
)
from lms.xapi.actors import actor_for

VERB_SCORED = "http://adlnet.gov/expapi/verbs/scored"
ACTIVITY_TYPE = "http://adlnet.gov/expapi/activities/assessment"

#: What each rater role counts as in the competency engine, and with what weight.
#: 360 peers and subordinates are observations from outside the reporting line: they
#: count as ``external`` evidence with half weight, so under the ``highest`` method two
#: raters who agree prove a level and one rater alone does not.
ROLE_SOURCES: dict[RaterRole, tuple[EvidenceSource, float]] = {
    RaterRole.SELF: (EvidenceSource.SELF, 1.0),
    RaterRole.SUPERVISOR: (EvidenceSource.SUPERVISOR, 1.0),
    RaterRole.PEER: (EvidenceSource.EXTERNAL, 0.5),
    RaterRole.SUBORDINATE: (EvidenceSource.EXTERNAL, 0.5),
    RaterRole.CENTRE: (EvidenceSource.ASSESSMENT, 1.0),
}
#: Rule names (stored data, in the UI language of the agency).
ROLE_NAMES = {
    RaterRole.SELF: "penilaian diri",
    RaterRole.SUPERVISOR: "penilaian atasan",
    RaterRole.PEER: "penilaian rekan kerja (360)",
    RaterRole.SUBORDINATE: "penilaian bawahan (360)",
    RaterRole.CENTRE: "assessment center",
}


def base_url() -> str:
    return str(current_app.config["BASE_URL"])


def activity_iri(code: str, role: RaterRole | str) -> str:
    """The stable activity of one competency rated from one role."""
    return f"{base_url()}/assessment/competency/{code}/{RaterRole(role).value}"


def round_iri(round_: AssessmentRound) -> str:
    return f"{base_url()}/assessment/rounds/{round_.uuid}"


def rule_key(code: str, role: RaterRole | str) -> str:
    return f"assessment:{code}:{RaterRole(role).value}"


def ensure_rules(competency_row: Competency, roles: list[RaterRole] | None = None) -> None:
    """The evidence rules that turn this competency's assessment statements into evidence
    (created once; a new version only if their definition changes)."""
    for role in roles or list(RaterRole):
        source, weight = ROLE_SOURCES[role]
        spec = competency.RuleSpec(
            name=f"{competency_row.code} {competency_row.name}: {ROLE_NAMES[role]}",
            activity_iri=activity_iri(competency_row.code, role), match="exact",
            criterion=Criterion.SCORE_BANDS.value, competency_id=competency_row.id,
            weight=weight, source=source.value, bands=[list(b) for b in BANDS])
        competency.ensure_rule(rule_key(competency_row.code, role), spec, origin="assessment")


# --- who may do what -----------------------------------------------------------------------


def _unit_path(user: User) -> str | None:
    position = user.position
    return position.org_unit.path if position is not None else None


def hr_covers(viewer: User, employee: User) -> bool:
    """Admins: everyone; HR: employees in their reporting scope (lms.reports.scope)."""
    if viewer.has_role(Role.ADMIN):
        return True
    if not viewer.has_role(Role.HR):
        return False
    from lms.reports.scope import scope_for

    return scope_for(viewer).covers(_unit_path(employee))


def can_view_employee(viewer: User, employee: User) -> bool:
    """The employee, their supervisor, HR covering them and admins (plans share the rule)."""
    return (viewer.id == employee.id or competency.is_supervisor_of(viewer, employee)
            or hr_covers(viewer, employee))


def can_view_round(viewer: User, round_: AssessmentRound) -> bool:
    return can_view_employee(viewer, round_.employee)


# --- questionnaires ------------------------------------------------------------------------


@dataclass
class Question:
    key: str  # "<level>.<index>"
    level: int
    text: str


@dataclass
class Section:
    competency: Competency
    levels: list[tuple[int, str, list[Question]]] = field(default_factory=list)


def questionnaire(codes: list[str]) -> list[Section]:
    """One section per competency, its indicators grouped by level."""
    rows = {c.code: c for c in get_session().scalars(
        sa.select(Competency).where(Competency.code.in_(codes)))}
    sections = []
    for code in codes:
        row = rows.get(code)
        if row is None:
            continue
        section = Section(competency=row)
        for level in row.levels:
            questions = [Question(f"{level.level}.{i}", level.level, text)
                         for i, text in enumerate(level.indicators or [])]
            section.levels.append((level.level, level.description, questions))
        sections.append(section)
    return sections


def default_codes(employee: User) -> list[str]:
    """The competencies of the employee's position standard (all managerial and
    socio-cultural ones when the position has none)."""
    required = competency.requirements_for(employee.position)
    codes = [c.code for c in competency.all_competencies() if c.id in required]
    if codes:
        return codes
    return [c.code for c in competency.all_competencies() if c.type.value != "teknis"]


def check_codes(codes: list[str]) -> list[str]:
    known = {c.code: c for c in competency.all_competencies()}
    clean = list(dict.fromkeys(c for c in codes if c))
    unknown = [c for c in clean if c not in known]
    if unknown:
        raise ValidationError(_("Unknown competency: %(codes)s.", codes=", ".join(unknown)),
                              field="competencies")
    if not clean:
        raise ValidationError(_("Choose at least one competency."), field="competencies")
    order = [c.code for c in known.values()]
    return sorted(clean, key=order.index)


# --- rounds --------------------------------------------------------------------------------


def _new_round(kind: RoundKind, employee: User, codes: list[str], opened_by: User,
               title: str = "") -> AssessmentRound:
    if not employee.nip:
        raise ValidationError(_("Only employees with a NIP can be assessed."))
    round_ = AssessmentRound(uuid=str(uuid.uuid4()), kind=kind, employee_id=employee.id,
                             competencies=check_codes(codes), opened_by_id=opened_by.id,
                             title=title[:200])
    get_session().add(round_)
    get_session().flush()
    return round_


def _add_rater(round_: AssessmentRound, rater: User, role: RaterRole) -> AssessmentRater:
    entry = AssessmentRater(round_id=round_.id, rater_id=rater.id, role=role, answers={},
                            statement_ids={})
    round_.raters.append(entry)
    get_session().flush()
    return entry


def start_self(employee: User, codes: list[str]) -> AssessmentRater:
    """A self-assessment round; returns the employee's questionnaire."""
    round_ = _new_round(RoundKind.SELF, employee, codes, employee)
    return _add_rater(round_, employee, RaterRole.SELF)


def start_supervisor(supervisor: User, employee: User, codes: list[str]) -> AssessmentRater:
    """A supervisor assessment of ``employee``; returns the supervisor's questionnaire."""
    if not competency.is_supervisor_of(supervisor, employee):
        raise Forbidden(_("Only a supervisor of this employee can assess them as supervisor."))
    round_ = _new_round(RoundKind.SUPERVISOR, employee, codes, supervisor)
    return _add_rater(round_, supervisor, RaterRole.SUPERVISOR)


def suggestions(employee: User) -> dict[str, list[User]]:
    """Raters to suggest for a 360 round: the nearest supervisor, peers (others in the
    employee's org unit who are not leaders) and subordinates (when the employee leads a
    unit: the people of that unit and below)."""
    position = employee.position
    result: dict[str, list[User]] = {"supervisor": competency.supervisors_of(employee)[:1],
                                     "peer": [], "subordinate": []}
    if position is None:
        return result
    session = get_session()
    peers = session.scalars(
        sa.select(User).join(PositionAssignment, PositionAssignment.user_id == User.id)
        .join(Position, Position.id == PositionAssignment.position_id)
        .where(PositionAssignment.end_date.is_(None),
               Position.org_unit_id == position.org_unit_id,
               Position.kind.not_in(MANAGERIAL_KINDS), User.id != employee.id,
               User.active.is_(True))
        .order_by(User.name).limit(8)).all()
    result["peer"] = list(peers)
    if position.kind in MANAGERIAL_KINDS:
        result["subordinate"] = competency.subordinates(employee, limit=8)
    return result


def candidates(employee: User, limit: int = 300) -> list[User]:
    """People HR may pick as raters: colleagues in the employee's OPD subtree, or
    everyone with a NIP when the employee has no position."""
    path = _unit_path(employee)
    unit_path = None
    if path:
        parts = [p for p in path.strip("/").split("/") if p]
        unit_path = "/" + "/".join(parts[:2]) + "/" if len(parts) >= 2 else path
    return [u for u in competency.search_employees("", limit=limit, unit_path=unit_path)
            if u.id != employee.id]


def open_360(hr: User, employee: User, codes: list[str], *, supervisor: User | None,
             peers: list[User], subordinates: list[User], include_self: bool = True,
             title: str = "") -> AssessmentRound:
    """HR opens a 360 round with the raters it chose."""
    if not hr_covers(hr, employee):
        raise Forbidden(_("This employee is outside your HR scope."))
    if not (peers or subordinates or supervisor):
        raise ValidationError(_("Choose at least one rater besides the employee."),
                              field="peers")
    round_ = _new_round(RoundKind.FULL, employee, codes, hr, title)
    if include_self:
        _add_rater(round_, employee, RaterRole.SELF)
    if supervisor is not None:
        if supervisor.id == employee.id:
            raise ValidationError(_("The employee cannot be their own supervisor."))
        _add_rater(round_, supervisor, RaterRole.SUPERVISOR)
    seen = {employee.id} | ({supervisor.id} if supervisor else set())
    for role, people in ((RaterRole.PEER, peers), (RaterRole.SUBORDINATE, subordinates)):
        for person in people:
            if person.id in seen:
                continue
            seen.add(person.id)
            _add_rater(round_, person, role)
    from lms.assessment import notify

    for entry in round_.raters:
        if entry.rater is not None and entry.rater_id != hr.id:
            notify.questionnaire_requested(entry)
    return round_


def record_centre(hr: User, employee: User, levels: dict[str, int], *, note: str,
                  assessed_on: dt.date | None = None) -> AssessmentRound:
    """Record the levels an assessment centre gave ``employee`` (one statement each)."""
    if not hr_covers(hr, employee):
        raise Forbidden(_("This employee is outside your HR scope."))
    chosen = {code: level for code, level in levels.items() if level is not None}
    for code, level in chosen.items():
        if not isinstance(level, int) or not 0 <= level <= 5:
            raise ValidationError(_("A level must be a number from 0 to 5."), field=code)
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("Name the assessment centre or assessor."), field="note")
    round_ = _new_round(RoundKind.CENTRE, employee, list(chosen), hr, note)
    entry = _add_rater(round_, hr, RaterRole.CENTRE)
    entry.note = note[:300]
    when = None
    if assessed_on is not None:
        when = dt.datetime.combine(assessed_on, dt.time(12, 0), tzinfo=dt.UTC)
    _submit(entry, {code: {"level": level} for code, level in chosen.items()}, when)
    round_.status, round_.closed_at = "closed", utcnow()
    return round_


def rater_entry(entry_id: int) -> AssessmentRater:
    entry = get_session().get(AssessmentRater, entry_id)
    if entry is None:
        raise NotFound(_("There is no such questionnaire."))
    return entry


def _scale_value(raw: Any, code: str) -> int | None:
    """One answer from a form: None when not given; off the scale is refused."""
    text = str(raw if raw is not None else "")
    if "\x00" in text or len(text) > 10:
        raise ValidationError(_("An answer is not on the scale."), field=code)
    text = text.strip()
    if text == "":
        return None
    if not text.isdigit() or int(text) not in SCALE:
        raise ValidationError(_("An answer is not on the scale."), field=code)
    return int(text)


def parse_answers(round_: AssessmentRound, form: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Answers from the fields of a submitted questionnaire (``a-<code>-<level>.<i>``,
    each 0..3), as plain name -> text. Every indicator must be answered."""
    result: dict[str, dict[str, Any]] = {}
    missing = 0
    for section in questionnaire(round_.competencies):
        code = section.competency.code
        answers: dict[str, int] = {}
        by_level: dict[int, list[int]] = defaultdict(list)
        for level, _description, questions in section.levels:
            by_level.setdefault(level, [])
            for q in questions:
                value = _scale_value(form.get(f"a-{code}-{q.key}", ""), code)
                if value is None:
                    missing += 1
                    continue
                answers[q.key] = value
                by_level[level].append(value)
        result[code] = {"level": level_from_answers(by_level), "answers": answers}
    if missing:
        raise ValidationError(_("Answer every indicator (%(n)d left).", n=missing))
    return result


def _check_open(entry: AssessmentRater, rater: User) -> None:
    if entry.rater_id != rater.id:
        raise Forbidden(_("This questionnaire belongs to someone else."))
    if entry.submitted:
        raise ValidationError(_("This questionnaire was already submitted."))
    if entry.round.status != "open":
        raise ValidationError(_("This assessment round is closed."))


def submit(entry: AssessmentRater, rater: User, form: Mapping[str, str]) -> dict[str, int]:
    """Check and store a rater's answers: the saved draft with what ``form`` (field name
    -> text) adds (a whole questionnaire or its last page); every indicator must be
    answered. Returns the level per competency."""
    _check_open(entry, rater)
    merged = {f"a-{code}-{key}": str(value)
              for code, answers in draft_answers(entry).items() for key, value in answers.items()}
    for code in entry.round.competencies:
        prefix = f"a-{code}-"
        for name in form:
            if isinstance(name, str) and name.startswith(prefix):
                value = form.get(name, "")
                if _scale_value(value, code) is not None:
                    merged[name] = str(value).strip()
    answers = parse_answers(entry.round, merged)
    _submit(entry, answers)
    get_session().execute(sa.delete(AssessmentDraft)
                          .where(AssessmentDraft.rater_entry_id == entry.id))
    return {code: value["level"] for code, value in answers.items()}


# --- drafts: a questionnaire answered page by page -----------------------------------------


def draft_answers(entry: AssessmentRater) -> dict[str, dict[str, int]]:
    """The saved answers of a questionnaire not yet submitted, per competency."""
    return {row.code: {k: int(v) for k, v in (row.answers or {}).items()}
            for row in get_session().scalars(
                sa.select(AssessmentDraft).where(AssessmentDraft.rater_entry_id == entry.id))}


def save_draft(entry: AssessmentRater, rater: User, code: str,
               form: Mapping[str, str]) -> dict[str, int]:
    """Save the answers ``form`` (field name -> text) gives for competency ``code`` (one page of the
    questionnaire); unanswered indicators stay open. Returns what is saved. Flushes."""
    _check_open(entry, rater)
    if code not in entry.round.competencies:
        raise ValidationError(_("Unknown competency: %(codes)s.", codes=code[:50]),
                              field="page")
    sections = questionnaire([code])
    answers: dict[str, int] = {}
    for section in sections:
        for _level, _description, questions in section.levels:
            for q in questions:
                value = _scale_value(form.get(f"a-{code}-{q.key}", ""), code)
                if value is not None:
                    answers[q.key] = value
    session = get_session()
    from sqlalchemy.dialects import postgresql, sqlite

    insert: Any = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
                   else sqlite.insert)
    table: Any = AssessmentDraft.__table__
    stmt = insert(table).values(rater_entry_id=entry.id, code=code, answers=answers,
                                saved_at=utcnow())
    session.execute(stmt.on_conflict_do_update(
        index_elements=["rater_entry_id", "code"],
        set_={"answers": stmt.excluded.answers, "saved_at": stmt.excluded.saved_at}))
    session.flush()
    return answers


@dataclass
class Progress:
    """How far a rater is: per competency (answered, total, level so far), and in all."""

    per_code: dict[str, tuple[int, int, int]]

    @property
    def answered(self) -> int:
        return sum(a for a, _t, _l in self.per_code.values())

    @property
    def total(self) -> int:
        return sum(t for _a, t, _l in self.per_code.values())

    @property
    def percent(self) -> int:
        return self.answered * 100 // self.total if self.total else 100

    @property
    def complete(self) -> bool:
        return self.answered == self.total


def progress(sections: list[Section], draft: dict[str, dict[str, int]]) -> Progress:
    per_code = {}
    for section in sections:
        code = section.competency.code
        given = draft.get(code, {})
        by_level: dict[int, list[int]] = defaultdict(list)
        total = answered = 0
        for level, _description, questions in section.levels:
            by_level.setdefault(level, [])
            for q in questions:
                total += 1
                if q.key in given:
                    answered += 1
                    by_level[level].append(given[q.key])
        per_code[code] = (answered, total, level_from_answers(by_level))
    return Progress(per_code)


def _statement(entry: AssessmentRater, row: Competency, level: int,
               when: dt.datetime | None, validated_by: User | None = None) -> dict[str, Any]:
    round_ = entry.round
    role = entry.role
    base = base_url()
    context: dict[str, Any] = {
        "registration": round_.uuid,
        "contextActivities": {
            "parent": [{"objectType": "Activity", "id": round_iri(round_),
                        "definition": {"type": ACTIVITY_TYPE,
                                       "name": {"id-ID": f"Putaran asesmen {round_.kind.value}"}}}],
            "category": [{"objectType": "Activity", "id": f"{base}/assessment/roles/{role.value}"}],
            "other": [{"objectType": "Activity", "id": row.iri}],
        },
        "extensions": {f"{base}/assessment/xapi/role": role.value},
    }
    if entry.rater is not None and role in (RaterRole.SUPERVISOR, RaterRole.CENTRE):
        context["instructor"] = actor_for(entry.rater)
    elif entry.rater is not None and role in (RaterRole.PEER, RaterRole.SUBORDINATE):
        context["team"] = {"objectType": "Group", "name": ROLE_NAMES[role],
                           "member": [actor_for(entry.rater)]}
    statement: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": actor_for(round_.employee),
        "verb": {"id": VERB_SCORED, "display": {"en-US": "scored", "id-ID": "dinilai"}},
        "object": {"objectType": "Activity", "id": activity_iri(row.code, role),
                   "definition": {"type": ACTIVITY_TYPE,
                                  "name": {"id-ID": f"{row.code} {row.name}: {ROLE_NAMES[role]}"}}},
        "result": {"score": {"raw": level, "min": 0, "max": 5, "scaled": scaled(level)},
                   "extensions": {f"{base}/assessment/xapi/level": level}},
        "context": context,
    }
    if validated_by is not None:
        context["extensions"][f"{base}/assessment/xapi/validated-by"] = actor_for(validated_by)
    if entry.note:
        statement["result"]["response"] = entry.note
    if when is not None:
        statement["timestamp"] = when.isoformat().replace("+00:00", "Z")
    return statement


def needs_validation(codes: list[str]) -> list[str]:
    """The codes whose framework's policy asks HR to validate a supervisor's rating."""
    from lms.competency.models import Framework
    from lms.competency.policy import normalize_policy

    rows = get_session().execute(
        sa.select(Competency.code, Framework.policy)
        .join(Framework, Framework.id == Competency.framework_id)
        .where(Competency.code.in_(codes))).all()
    return [code for code, policy in rows
            if normalize_policy(policy)["supervisor_validation"]]


def _claim(entry: AssessmentRater, now: dt.datetime) -> None:
    """Mark the entry submitted unless a concurrent request did: one conditional UPDATE,
    so two submissions at once store the statements once."""
    claimed = get_session().execute(  # type: ignore[attr-defined]
        sa.update(AssessmentRater)
        .where(AssessmentRater.id == entry.id, AssessmentRater.submitted_at.is_(None))
        .values(submitted_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise ValidationError(_("This questionnaire was already submitted."))


def _submit(entry: AssessmentRater, answers: dict[str, dict[str, Any]],
            when: dt.datetime | None = None) -> None:
    from lms.xapi.service import store_statements

    now = utcnow()
    _claim(entry, now)
    rows = {c.code: c for c in get_session().scalars(
        sa.select(Competency).where(Competency.code.in_(list(answers))))}
    held: list[str] = []
    if entry.role == RaterRole.SUPERVISOR:
        held = [c for c in needs_validation(list(answers)) if c in entry.round.competencies]
    statements, ids = [], {}
    for code in entry.round.competencies:
        if code not in answers or code not in rows or code in held:
            continue
        ensure_rules(rows[code], [entry.role])
        statement = _statement(entry, rows[code], int(answers[code]["level"]), when)
        statements.append(statement)
        ids[code] = statement["id"]
    if statements:
        store_statements(statements)
    entry.answers = answers
    entry.statement_ids = ids
    entry.submitted_at = now
    entry.held_codes = held
    entry.validation = "pending" if held else None
    entry.validation_note = ""
    round_ = entry.round
    if round_.kind in (RoundKind.SELF, RoundKind.SUPERVISOR) or all(
            r.submitted for r in round_.raters):
        round_.status, round_.closed_at = "closed", utcnow()
    get_session().flush()
    if held:
        from lms.assessment import notify

        notify.validation_requested(entry)


# --- HR validation of supervisor ratings ---------------------------------------------------


def pending_validations(viewer: User, limit: int = 100) -> list[AssessmentRater]:
    """Supervisor ratings waiting for HR validation, of employees the viewer covers."""
    if not viewer.has_role(Role.HR, Role.ADMIN):
        return []
    entries = get_session().scalars(
        sa.select(AssessmentRater).where(AssessmentRater.validation == "pending",
                                         AssessmentRater.submitted_at.is_not(None))
        .order_by(AssessmentRater.submitted_at).limit(limit * 4))
    return [e for e in entries if hr_covers(viewer, e.round.employee)][:limit]


def _check_validator(entry: AssessmentRater, hr: User) -> None:
    if not hr_covers(hr, entry.round.employee):
        raise Forbidden(_("This employee is outside your HR scope."))
    if entry.rater_id == hr.id:
        raise Forbidden(_("A rating is validated by someone other than its rater."))
    if not entry.pending_validation:
        raise ValidationError(_("This rating does not wait for validation."))


def validate(entry: AssessmentRater, hr: User) -> int:
    """HR validates a supervisor's rating: its held statements go to the LRS (dated when
    the supervisor submitted, naming the validator), so the rating now counts. Returns
    the number of statements stored. Flushes."""
    from lms.xapi.service import store_statements

    _check_validator(entry, hr)
    claimed = get_session().execute(  # type: ignore[attr-defined]
        sa.update(AssessmentRater)
        .where(AssessmentRater.id == entry.id, AssessmentRater.validation == "pending")
        .values(validation="validated", validated_by_id=hr.id, validated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise ValidationError(_("This rating does not wait for validation."))
    rows = {c.code: c for c in get_session().scalars(
        sa.select(Competency).where(Competency.code.in_(list(entry.held_codes or []))))}
    statements, ids = [], dict(entry.statement_ids or {})
    for code in entry.held_codes or []:
        if code not in rows or code not in (entry.answers or {}):
            continue
        ensure_rules(rows[code], [entry.role])
        statement = _statement(entry, rows[code], int(entry.answers[code]["level"]),
                               entry.submitted_at, validated_by=hr)
        statements.append(statement)
        ids[code] = statement["id"]
    if statements:
        store_statements(statements)
    entry.statement_ids = ids
    entry.validation, entry.validated_by_id, entry.validated_at = "validated", hr.id, utcnow()
    get_session().flush()
    return len(statements)


def return_rating(entry: AssessmentRater, hr: User, note: str) -> None:
    """HR sends a supervisor's rating back with a comment: the questionnaire opens again
    for the supervisor with their answers kept as a draft; nothing was counted. Flushes."""
    note = " ".join((note or "").split())
    if not note:
        raise ValidationError(_("Say what should change: the comment is required."),
                              field="note")
    _check_validator(entry, hr)
    session = get_session()
    answers = dict(entry.answers or {})
    for code, value in answers.items():
        if code in (entry.statement_ids or {}):
            continue  # already counted (its framework asks no validation)
        session.merge(AssessmentDraft(rater_entry_id=entry.id, code=code,
                                      answers=dict(value.get("answers") or {}),
                                      saved_at=utcnow()))
    entry.submitted_at = None
    entry.validation = None
    entry.held_codes = []
    entry.validation_note = note[:4000]
    entry.validated_by_id, entry.validated_at = hr.id, utcnow()
    round_ = entry.round
    round_.status, round_.closed_at = "open", None
    session.flush()
    from lms.assessment import notify

    notify.rating_returned(entry, hr)


def close_round(round_: AssessmentRound, viewer: User) -> None:
    if not (hr_covers(viewer, round_.employee) or round_.opened_by_id == viewer.id):
        raise Forbidden(_("Only HR or whoever opened the round can close it."))
    round_.status, round_.closed_at = "closed", utcnow()
    get_session().flush()


# --- results -------------------------------------------------------------------------------


@dataclass
class ResultRow:
    competency: Competency
    self_level: int | None = None
    supervisor: int | None = None
    peers: float | None = None
    subordinates: float | None = None
    centre: int | None = None
    others: float | None = None
    count: int = 0

    @property
    def distance(self) -> float | None:
        """Others' average minus the self rating (positive: the employee rates
        themselves lower than others do)."""
        if self.self_level is None or self.others is None:
            return None
        return round(self.others - self.self_level, 2)


def _rows(entries: list[AssessmentRater], codes: list[str]) -> list[ResultRow]:
    rows = {c.code: c for c in get_session().scalars(
        sa.select(Competency).where(Competency.code.in_(codes)))}
    out = []
    for code in codes:
        if code not in rows:
            continue
        by_role: dict[RaterRole, list[int]] = defaultdict(list)
        for entry in entries:
            level = counted_level(entry, code)
            if level is not None:
                by_role[entry.role].append(level)
        others = [v for role, values in by_role.items() if role != RaterRole.SELF
                  for v in values]
        sup = by_role.get(RaterRole.SUPERVISOR)
        centre = by_role.get(RaterRole.CENTRE)
        selfs = by_role.get(RaterRole.SELF)
        out.append(ResultRow(
            competency=rows[code], self_level=selfs[-1] if selfs else None,
            supervisor=sup[-1] if sup else None, peers=mean(by_role.get(RaterRole.PEER, [])),
            subordinates=mean(by_role.get(RaterRole.SUBORDINATE, [])),
            centre=centre[-1] if centre else None, others=mean(others),
            count=sum(len(v) for v in by_role.values())))
    return out


def counted_level(entry: AssessmentRater, code: str) -> int | None:
    """The level ``entry`` gave ``code``, if it counts (submitted; validated where the
    policy asks for it)."""
    if not entry.submitted:
        return None
    if entry.validation == "pending" and code in (entry.held_codes or []):
        return None
    return entry.level(code)


def round_results(round_: AssessmentRound) -> list[ResultRow]:
    return _rows(list(round_.raters), list(round_.competencies))


def rounds_of(employee: User) -> list[AssessmentRound]:
    return list(get_session().scalars(
        sa.select(AssessmentRound).where(AssessmentRound.employee_id == employee.id)
        .order_by(AssessmentRound.created_at.desc(), AssessmentRound.id.desc())))


def latest_results(employee: User) -> list[ResultRow]:
    """Per competency, the newest submitted rating of each role across the rounds, and
    the 360 averages of the newest round that has them (for the profile page)."""
    entries = list(get_session().scalars(
        sa.select(AssessmentRater).join(AssessmentRound)
        .where(AssessmentRound.employee_id == employee.id,
               AssessmentRater.submitted_at.is_not(None))
        .order_by(AssessmentRater.submitted_at, AssessmentRater.id)))
    if not entries:
        return []
    codes: list[str] = []
    for entry in entries:
        codes += [c for c in entry.answers if c not in codes]
    order = [c.code for c in competency.all_competencies()]
    codes.sort(key=lambda c: order.index(c) if c in order else len(order))
    # Keep, per competency and role, only the newest round's ratings that count.
    newest: dict[tuple[str, RaterRole], int] = {}
    for entry in entries:
        for code in entry.answers:
            if counted_level(entry, code) is not None:
                newest[(code, entry.role)] = entry.round_id
    rows = []
    for code in codes:
        mine = [e for e in entries if code in e.answers
                and newest.get((code, e.role)) == e.round_id]
        rows += _rows(mine, [code])
    return rows


def pending_for(rater: User) -> list[AssessmentRater]:
    """Questionnaires ``rater`` still has to fill in (open rounds)."""
    return list(get_session().scalars(
        sa.select(AssessmentRater).join(AssessmentRound)
        .where(AssessmentRater.rater_id == rater.id, AssessmentRater.submitted_at.is_(None),
               AssessmentRound.status == "open")
        .order_by(AssessmentRound.created_at.desc())))


def hr_rounds(viewer: User, limit: int = 50) -> list[AssessmentRound]:
    """Recent rounds of employees in the viewer's HR scope."""
    query = (sa.select(AssessmentRound).join(User, User.id == AssessmentRound.employee_id)
             .order_by(AssessmentRound.created_at.desc()).limit(limit))
    if not viewer.has_role(Role.ADMIN):
        from lms.reports.scope import scope_for

        scope = scope_for(viewer)
        if not scope.everyone:
            query = (query.join(PositionAssignment, sa.and_(
                PositionAssignment.user_id == User.id, PositionAssignment.end_date.is_(None)))
                .join(Position, Position.id == PositionAssignment.position_id)
                .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
                .where(OrgUnit.path.like(f"{scope.path}%")))
    return list(get_session().scalars(query))


def answers_at(levels: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Answers that place each competency exactly at its level (every behaviour up to the
    level "consistently", above it "not shown"): for demo data and imports."""
    out: dict[str, dict[str, Any]] = {}
    for section in questionnaire(list(levels)):
        code = section.competency.code
        target = levels[code]
        answers = {q.key: (3 if level <= target else 0)
                   for level, _d, questions in section.levels for q in questions}
        out[code] = {"level": target, "answers": answers}
    return out


def submit_levels(entry: AssessmentRater, levels: dict[str, int],
                  when: dt.datetime | None = None) -> None:
    """Submit ``entry`` with the answers that give ``levels`` (demo data)."""
    _submit(entry, answers_at(levels), when)


@dataclass
class ValidationRow:
    competency: Competency
    required: int | None
    current: int
    rated: int
    self_level: int | None


def validation_summary(entry: AssessmentRater) -> dict[str, Any]:
    """What HR weighs before validating a supervisor's rating: per held competency the
    required level, the current profile level, the rating and the latest self rating;
    and the job-person match now and as it would be with the rating counted (the higher
    of the current level and the rating, as the default ``highest`` method counts it)."""
    from lms.competency.models import UserCompetency

    employee = entry.round.employee
    session = get_session()
    required = competency.requirements_for(employee.position)
    levels = dict(session.execute(
        sa.select(UserCompetency.competency_id, UserCompetency.level)
        .where(UserCompetency.user_id == employee.id)).all())
    rows_by_code = {c.code: c for c in session.scalars(
        sa.select(Competency).where(Competency.code.in_(list(entry.held_codes or []))))}
    selfs = {r.competency.code: r.self_level for r in latest_results(employee)}
    rows = []
    rated: dict[int, int] = {}
    for code in entry.held_codes or []:
        row = rows_by_code.get(code)
        if row is None or code not in (entry.answers or {}):
            continue
        level = int(entry.answers[code]["level"])
        rated[row.id] = level
        rows.append(ValidationRow(row, required.get(row.id), int(levels.get(row.id, 0)),
                                  level, selfs.get(code)))

    def jpm(with_rating: bool) -> int | None:
        total = sum(required.values())
        if not total:
            return None
        achieved = 0
        for cid, need in required.items():
            have = int(levels.get(cid, 0))
            if with_rating and cid in rated:
                have = max(have, rated[cid])
            achieved += min(have, need)
        return achieved * 100 // total

    return {"rows": rows, "jpm_now": jpm(False), "jpm_after": jpm(True)}
