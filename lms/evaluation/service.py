"""Training evaluation on four levels (see docs/evaluation.md).

1. Reaction: when a course or a recorded training is completed (a ``completed`` statement,
   seen by :class:`lms.evaluation.consumer.EvaluationConsumer`), the learner gets a survey.
2. Learning: read from quiz attempts (first and best score, pre-test against the rest).
3. Behaviour: the same completion schedules a follow-up ``EVALUATION_FOLLOWUP_WEEKS``
   later; :func:`remind` (``lms evaluation remind``) opens it for the employee's nearest
   supervisor and e-mails reminders through the outbox.
4. Results: HR links indicators (a baseline, a figure, a note) to a course or training.

Answers are stored here and sent to the LRS as ``responded`` statements.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from lms.db import get_session, utcnow
from lms.errors import Forbidden, NotFound, ValidationError
from lms.evaluation.models import (
    BEHAVIOUR,
    CANCELLED,
    DONE,
    NO_SUPERVISOR,
    OPEN,
    REACTION,
    SCHEDULED,
    Evaluation,
    EvaluationResult,
)
from lms.evaluation.questions import questions
from lms.people.models import OrgUnit, Role, User

RESPONDED = "http://adlnet.gov/expapi/verbs/responded"
SURVEY_TYPE = "http://id.tincanapi.com/activitytype/survey"
MAX_COMMENT = 2000
LENTERA_PROVIDER = "Lentera"
#: Quiz ids taken as a pre-test (level 2 compares them with the other quizzes).
PRE_TEST = re.compile(r"^(pre[-_]?tes|(kuis|tes|test)[-_]awal|awal)")


def base_url() -> str:
    return str(current_app.config["BASE_URL"])


def followup_delay() -> dt.timedelta:
    return dt.timedelta(weeks=float(current_app.config.get("EVALUATION_FOLLOWUP_WEEKS", 6)))


# --- subjects: what a completion statement is about -------------------------------------

@dataclass
class Subject:
    activity_iri: str
    title: str
    provider: str
    course_id: int | None = None
    training_id: int | None = None

    @property
    def kind(self) -> str:
        return "course" if self.course_id is not None else "training"

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, int(self.course_id if self.course_id is not None
                               else self.training_id or 0))


def subject_for_iri(iri: str) -> Subject | None:
    """The Lentera course or the recorded training an activity IRI names, else None."""
    from lms.courses.models import Course
    from lms.courses.statements import parse_activity_iri

    session = get_session()
    parsed = parse_activity_iri(iri)
    if parsed is not None:
        if parsed[1] is not None:
            return None  # a module or a quiz
        course = session.scalar(sa.select(Course).where(Course.slug == parsed[0]))
        if course is None:
            return None
        return Subject(iri, course.title, LENTERA_PROVIDER, course_id=course.id)
    from lms.reports.models import Training
    from lms.reports.training import parse_training_iri

    training_id = parse_training_iri(iri)
    training = session.get(Training, training_id) if training_id else None
    if training is None:
        return None
    return Subject(iri, training.title, training.provider or "", training_id=training.id)


def subject(kind: str, subject_id: int) -> Subject:
    """A course or training by id (for report pages); NotFound otherwise."""
    session = get_session()
    if kind == "course":
        from lms.courses.models import Course
        from lms.courses.statements import course_iri

        course = session.get(Course, subject_id)
        if course is not None:
            return Subject(course_iri(course.slug), course.title, LENTERA_PROVIDER,
                           course_id=course.id)
    elif kind == "training":
        from lms.reports.models import Training
        from lms.reports.training import training_iri

        training = session.get(Training, subject_id)
        if training is not None:
            return Subject(training_iri(training.id), training.title, training.provider or "",
                           training_id=training.id)
    raise NotFound(_("No such course or training."))


# --- creation from completions ----------------------------------------------------------

def record_completion(user: User, subj: Subject, completed_at: dt.datetime,
                      statement_id: str) -> list[Evaluation]:
    """Create the reaction survey (open now) and the follow-up (scheduled); idempotent."""
    session = get_session()
    made = []
    for level, status, due in ((REACTION, OPEN, completed_at),
                               (BEHAVIOUR, SCHEDULED, completed_at + followup_delay())):
        exists = session.scalar(sa.select(Evaluation.id).where(
            Evaluation.level == level, Evaluation.user_id == user.id,
            Evaluation.activity_iri == subj.activity_iri))
        if exists is not None:
            continue
        row = Evaluation(
            level=level, user_id=user.id, respondent_id=user.id if level == REACTION else None,
            course_id=subj.course_id, training_id=subj.training_id,
            activity_iri=subj.activity_iri[:500], title=subj.title[:300],
            provider=subj.provider[:300], completed_at=completed_at,
            completion_statement_id=statement_id.lower(), due_at=due, status=status,
            reminders_sent=0)
        session.add(row)
        made.append(row)
    session.flush()
    return made


def withdraw(statement_id: str) -> int:
    """A voided completion: cancel its evaluations nobody answered yet."""
    rows = get_session().scalars(sa.select(Evaluation).where(
        Evaluation.completion_statement_id == statement_id.lower(),
        Evaluation.status != DONE)).all()
    for row in rows:
        row.status = CANCELLED
    return len(rows)


# --- answering ---------------------------------------------------------------------------

def open_for(user: User) -> list[Evaluation]:
    """What ``user`` is asked to answer now: own reaction surveys, follow-ups as supervisor."""
    return list(get_session().scalars(
        sa.select(Evaluation).where(Evaluation.respondent_id == user.id,
                                    Evaluation.status == OPEN)
        .order_by(Evaluation.level, Evaluation.due_at)))


def open_reaction(user: User, course_id: int) -> Evaluation | None:
    return get_session().scalar(sa.select(Evaluation).where(
        Evaluation.level == REACTION, Evaluation.respondent_id == user.id,
        Evaluation.course_id == course_id, Evaluation.status == OPEN).limit(1))


def get_for_respondent(evaluation_id: int, user: User) -> Evaluation:
    row = get_session().get(Evaluation, evaluation_id)
    if row is None:
        raise NotFound(_("No such evaluation."))
    if row.respondent_id != user.id:
        raise Forbidden(_("This evaluation is addressed to someone else."))
    return row


def parse_answers(level: int, form: Mapping[str, str]) -> dict[str, int]:
    """Every question answered with 1..5, from the ``q_<id>`` fields (name -> text)."""
    answers: dict[str, int] = {}
    for qid, _text in questions(level):
        raw = str(form.get(f"q_{qid}", "") or "").strip()
        if raw not in {"1", "2", "3", "4", "5"}:
            raise ValidationError(_("Please answer every statement (1 to 5)."), field=f"q_{qid}")
        answers[qid] = int(raw)
    return answers


def answer(row: Evaluation, respondent: User, answers: dict[str, int], comment: str,
           now: dt.datetime | None = None) -> str:
    """Record the answers and store them as an xAPI statement; flushes only."""
    if row.respondent_id != respondent.id:
        raise Forbidden(_("This evaluation is addressed to someone else."))
    if row.status == DONE:
        raise ValidationError(_("This evaluation has already been answered."))
    if row.status != OPEN:
        raise ValidationError(_("This evaluation is not open."))
    expected = [qid for qid, _t in questions(row.level)]
    if sorted(answers) != sorted(expected) or any(
            isinstance(v, bool) or v not in (1, 2, 3, 4, 5) for v in answers.values()):
        raise ValidationError(_("Please answer every statement (1 to 5)."))
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError(_("The comment is too long (at most %(n)d characters).",
                                n=MAX_COMMENT), field="comment")
    moment = now or utcnow()
    statement_id = store_statement(row, respondent, answers, comment, moment)
    row.answers, row.comment = dict(answers), comment or None
    row.answered_at, row.status, row.statement_id = moment, DONE, statement_id
    get_session().flush()
    return statement_id


def store_statement(row: Evaluation, respondent: User, answers: dict[str, int],
                    comment: str, moment: dt.datetime) -> str:
    from lms.xapi.actors import actor_for
    from lms.xapi.service import store_statements

    base = base_url()
    kind = "reaction" if row.level == REACTION else "behaviour"
    names = {"reaction": ("Training evaluation: reaction (level 1)",
                          "Evaluasi pelatihan: reaksi (level 1)"),
             "behaviour": ("Training evaluation: application at work (level 3)",
                           "Evaluasi pelatihan: penerapan di tempat kerja (level 3)")}[kind]
    values = list(answers.values())
    avg = mean(values)
    extensions: dict[str, Any] = {f"{base}/xapi/extensions/evaluation-level": row.level}
    if row.level == BEHAVIOUR:
        employee = get_session().get(User, row.user_id)
        if employee is not None:
            extensions[f"{base}/xapi/extensions/evaluated-person"] = actor_for(employee)
    statement = {
        "id": str(uuid.uuid4()),
        "actor": actor_for(respondent),
        "verb": {"id": RESPONDED, "display": {"en-US": "responded", "id-ID": "menanggapi"}},
        "object": {"objectType": "Activity", "id": f"{base}/evaluation/{kind}",
                   "definition": {"type": SURVEY_TYPE,
                                  "name": {"en-US": names[0], "id-ID": names[1]}}},
        "result": {
            "completion": True,
            "response": comment,
            "score": {"raw": round(avg, 4), "min": 1, "max": 5,
                      "scaled": round((avg - 1) / 4, 4)},
            "extensions": {f"{base}/xapi/extensions/evaluation-answers": dict(answers)},
        },
        "context": {
            "platform": "Lentera",
            "language": "id-ID",
            "contextActivities": {
                "parent": [{"objectType": "Activity", "id": row.activity_iri}],
                "category": [{"objectType": "Activity",
                              "id": f"{base}/xapi/profiles/evaluation",
                              "definition": {
                                  "type": "http://adlnet.gov/expapi/activities/profile"}}],
            },
            "extensions": extensions,
        },
        "timestamp": moment.isoformat().replace("+00:00", "Z"),
    }
    return store_statements([statement])[0]


# --- level 3: opening follow-ups and reminding supervisors --------------------------------

def _supervisor(employee: User) -> User | None:
    from lms.competency.service import supervisors_of

    found = supervisors_of(employee)
    return found[0] if found else None


def remind(now: dt.datetime | None = None) -> dict[str, int]:
    """Open the follow-ups that fell due and e-mail their supervisors; idempotent.

    Run it daily (cron or Celery beat). A follow-up is opened for the employee's nearest
    supervisor when it falls due; its supervisor gets an e-mail then, and again every
    ``EVALUATION_REMINDER_DAYS`` until it is answered, at most
    ``EVALUATION_MAX_REMINDERS`` e-mails. Running it twice at the same time sends nothing
    more. Flushes only; the caller commits.
    """
    moment = now or utcnow()
    session = get_session()
    cfg = current_app.config
    every = dt.timedelta(days=float(cfg.get("EVALUATION_REMINDER_DAYS", 7)))
    most = int(cfg.get("EVALUATION_MAX_REMINDERS", 3))
    counts = {"opened": 0, "no_supervisor": 0, "reminded": 0}
    due = session.scalars(sa.select(Evaluation).where(
        Evaluation.level == BEHAVIOUR, Evaluation.status.in_((SCHEDULED, NO_SUPERVISOR)),
        Evaluation.due_at <= moment).order_by(Evaluation.id)).all()
    for row in due:
        employee = session.get(User, row.user_id)
        supervisor = _supervisor(employee) if employee is not None and employee.active else None
        if supervisor is None:
            if row.status != NO_SUPERVISOR:
                row.status = NO_SUPERVISOR
                counts["no_supervisor"] += 1
            continue
        row.status, row.respondent_id = OPEN, supervisor.id
        counts["opened"] += 1
    session.flush()
    waiting = session.scalars(sa.select(Evaluation).where(
        Evaluation.level == BEHAVIOUR, Evaluation.status == OPEN,
        Evaluation.reminders_sent < most,
        sa.or_(Evaluation.last_reminder_at.is_(None),
               Evaluation.last_reminder_at <= moment - every)).order_by(Evaluation.id)).all()
    from lms.competency.service import is_supervisor_of

    for row in waiting:
        employee = session.get(User, row.user_id)
        asked = session.get(User, row.respondent_id) if row.respondent_id else None
        if employee is not None and (asked is None or not asked.active
                                     or not is_supervisor_of(asked, employee)):
            # The supervisor moved on: ask whoever supervises the employee now.
            successor = _supervisor(employee)
            if successor is None:
                continue
            if successor.id != row.respondent_id:
                row.respondent_id, row.reminders_sent, row.last_reminder_at = (
                    successor.id, 0, None)
        if _send_reminder(row):
            row.reminders_sent += 1
            row.last_reminder_at = moment
            counts["reminded"] += 1
    session.flush()
    return counts


def _send_reminder(row: Evaluation) -> bool:
    from flask_babel import force_locale

    from lms.mail import queue_mail

    session = get_session()
    supervisor = session.get(User, row.respondent_id) if row.respondent_id else None
    employee = session.get(User, row.user_id)
    if supervisor is None or employee is None:
        return False
    from lms.i18n import format_date

    link = f"{base_url()}/evaluation/{row.id}"
    locale = getattr(supervisor, "locale", None) or current_app.config.get(
        "BABEL_DEFAULT_LOCALE", "id")
    with force_locale(locale):
        subject = _("Training follow-up: does %(name)s apply \"%(title)s\"?",
                    name=employee.name, title=row.title)
        text = _(
            "Dear %(supervisor)s,\n\n%(name)s completed \"%(title)s\" on %(date)s. "
            "As their supervisor, please tell us in a few clicks whether they apply what "
            "they learned at work:\n\n%(link)s\n\nThank you.\nLentera",
            supervisor=supervisor.name, name=employee.name, title=row.title,
            date=format_date(row.completed_at, "long"), link=link)
    if row.reminders_sent:
        with force_locale(locale):
            subject = _("Reminder: %(subject)s", subject=subject)
    return queue_mail(supervisor, subject, text, category="evaluation") is not None


# --- who sees which reports ---------------------------------------------------------------

def can_report(user: User) -> bool:
    return bool(user.is_authenticated and user.has_role(Role.ADMIN, Role.HR, Role.TRAINER))


def trainer_course_ids(user: User) -> set[int]:
    from lms.authoring.models import AuthoredCourse, CourseTrainer
    from lms.courses.models import Course

    return set(get_session().scalars(
        sa.select(Course.id).join(AuthoredCourse, AuthoredCourse.slug == Course.slug)
        .join(CourseTrainer, CourseTrainer.course_id == AuthoredCourse.id)
        .where(CourseTrainer.user_id == user.id)))


@dataclass
class Viewer:
    """What a report viewer may see: all employees, or a scope; all subjects or some."""

    user: User
    scope: Any  # lms.reports.scope.Scope, or None for "every employee"
    course_ids: set[int] | None  # None: every course
    trainings: bool
    names: bool  # may see who answered what
    can_record_results: bool = False
    notes: list[str] = field(default_factory=list)


def viewer_for(user: User) -> Viewer:
    from lms.reports.scope import scope_for

    if not can_report(user):
        raise Forbidden(_("Evaluation reports are for trainers, HR and administrators."))
    if user.has_role(Role.ADMIN):
        return Viewer(user, None, None, True, True, True)
    if user.has_role(Role.HR):
        scope = scope_for(user)
        return Viewer(user, None if scope.everyone else scope, None, True, True, True)
    return Viewer(user, None, trainer_course_ids(user), False, False, False)


def check_subject(viewer: Viewer, subj: Subject) -> None:
    if subj.course_id is not None:
        if viewer.course_ids is not None and subj.course_id not in viewer.course_ids:
            raise Forbidden(_("You can see the evaluation of your own courses only."))
    elif not viewer.trainings:
        raise Forbidden(_("Recorded trainings are evaluated by HR."))


def _population(viewer: Viewer, column: Any, query: Any) -> Any:
    if viewer.scope is None:
        return query
    from lms.reports.scope import scoped_employees

    employees = scoped_employees(viewer.scope).subquery()
    return query.where(column.in_(sa.select(employees.c.user_id)))


def _visible_rows(viewer: Viewer, subj: Subject | None = None) -> list[Evaluation]:
    query = sa.select(Evaluation).where(Evaluation.status != CANCELLED)
    if subj is not None:
        query = query.where(Evaluation.activity_iri == subj.activity_iri)
    else:
        if viewer.course_ids is not None:
            query = query.where(Evaluation.course_id.in_(viewer.course_ids or {-1}))
        if not viewer.trainings:
            query = query.where(Evaluation.course_id.is_not(None))
    query = _population(viewer, Evaluation.user_id, query)
    return list(get_session().scalars(query.order_by(Evaluation.id)))


def _mean(values: list[float]) -> float | None:
    return round(mean(values), 2) if values else None


def _row_mean(row: Evaluation) -> float | None:
    values = [v for v in (row.answers or {}).values() if isinstance(v, int)]
    return mean(values) if values else None


@dataclass
class SummaryRow:
    subject: Subject
    completions: int = 0
    reaction_n: int = 0
    reaction_mean: float | None = None
    behaviour_n: int = 0
    behaviour_due: int = 0
    behaviour_mean: float | None = None
    results_n: int = 0


def summary(viewer: Viewer) -> tuple[list[SummaryRow], list[dict[str, Any]]]:
    """Per course/training and per provider: completions, level-1 and level-3 means."""
    rows = _visible_rows(viewer)
    by_subject: dict[str, SummaryRow] = {}
    scores: dict[str, dict[int, list[float]]] = {}
    for row in rows:
        item = by_subject.get(row.activity_iri)
        if item is None:
            item = by_subject[row.activity_iri] = SummaryRow(Subject(
                row.activity_iri, row.title, row.provider, row.course_id, row.training_id))
            scores[row.activity_iri] = {REACTION: [], BEHAVIOUR: []}
        if row.level == REACTION:
            item.completions += 1
        if row.status == DONE:
            value = _row_mean(row)
            if value is not None:
                scores[row.activity_iri][row.level].append(value)
        elif row.level == BEHAVIOUR and row.status in (OPEN, NO_SUPERVISOR):
            item.behaviour_due += 1
    results = dict(get_session().execute(
        sa.select(sa.func.coalesce(EvaluationResult.course_id, -EvaluationResult.training_id),
                  sa.func.count()).group_by(EvaluationResult.course_id,
                                            EvaluationResult.training_id)).all())
    for iri, item in by_subject.items():
        r, b = scores[iri][REACTION], scores[iri][BEHAVIOUR]
        item.reaction_n, item.reaction_mean = len(r), _mean(r)
        item.behaviour_n, item.behaviour_mean = len(b), _mean(b)
        key = item.subject.course_id if item.subject.course_id is not None else -(
            item.subject.training_id or 0)
        item.results_n = int(results.get(key, 0))
    ordered = sorted(by_subject.values(), key=lambda s: (s.subject.provider, s.subject.title))
    providers: dict[str, dict[str, Any]] = {}
    for item in ordered:
        p = providers.setdefault(item.subject.provider or "—", {
            "provider": item.subject.provider or "—", "subjects": 0, "completions": 0,
            "reaction": [], "behaviour": [], "results": 0})
        p["subjects"] += 1
        p["completions"] += item.completions
        p["reaction"] += scores[item.subject.activity_iri][REACTION]
        p["behaviour"] += scores[item.subject.activity_iri][BEHAVIOUR]
        p["results"] += item.results_n
    provider_rows = [{**p, "reaction_n": len(p["reaction"]), "reaction_mean": _mean(p["reaction"]),
                      "behaviour_n": len(p["behaviour"]),
                      "behaviour_mean": _mean(p["behaviour"])} for p in providers.values()]
    return ordered, provider_rows


@dataclass
class QuestionStat:
    id: str
    text: Any
    n: int
    mean: float | None
    counts: list[int]  # answers 1..5


def _question_stats(level: int, rows: list[Evaluation]) -> list[QuestionStat]:
    stats = []
    for qid, text in questions(level):
        values = [int(r.answers[qid]) for r in rows
                  if r.answers and isinstance(r.answers.get(qid), int)]
        stats.append(QuestionStat(qid, text, len(values), _mean([float(v) for v in values]),
                                  [values.count(k) for k in range(1, 6)]))
    return stats


def learning(viewer: Viewer, subj: Subject) -> dict[str, Any]:
    """Level 2 from quiz attempts: per quiz first and best scores, pass rate; and the gain
    from a pre-test (a quiz id such as ``pretest``, ``pre-test``, ``tes-awal``,
    ``kuis-awal``) to the others."""
    if subj.course_id is None:
        return {"quizzes": [], "gain": None}
    from lms.quizzes.models import QuizAttempt

    query = sa.select(QuizAttempt.user_id, QuizAttempt.quiz_id, QuizAttempt.scaled,
                      QuizAttempt.passed).where(
        QuizAttempt.course_id == subj.course_id, QuizAttempt.submitted_at.is_not(None),
        QuizAttempt.scaled.is_not(None)).order_by(QuizAttempt.user_id, QuizAttempt.quiz_id,
                                                  QuizAttempt.number)
    attempts = get_session().execute(_population(viewer, QuizAttempt.user_id, query)).all()
    per: dict[str, dict[int, list[Any]]] = {}
    for a in attempts:
        per.setdefault(a.quiz_id, {}).setdefault(a.user_id, []).append(a)
    quizzes = []
    for quiz_id, learners in sorted(per.items()):
        first = [float(v[0].scaled) for v in learners.values()]
        best = [max(float(x.scaled) for x in v) for v in learners.values()]
        passed = sum(1 for v in learners.values() if any(x.passed for x in v))
        quizzes.append({"quiz": quiz_id, "learners": len(learners),
                        "first": _mean([100 * x for x in first]),
                        "best": _mean([100 * x for x in best]),
                        "pass_rate": round(100 * passed / len(learners), 1),
                        "pre": bool(PRE_TEST.match(quiz_id.lower()))})
    gain = None
    pre_ids = [str(q["quiz"]) for q in quizzes if q["pre"]]
    post_ids = [str(q["quiz"]) for q in quizzes if not q["pre"]]
    if pre_ids and post_ids:
        pairs = []
        for user_id in {u for q in pre_ids for u in per[q]}:
            pre = [float(per[q][user_id][0].scaled) for q in pre_ids if user_id in per[q]]
            post = [max(float(x.scaled) for x in per[q][user_id]) for q in post_ids
                    if user_id in per[q]]
            if pre and post:
                pairs.append((mean(pre), mean(post)))
        if pairs:
            gain = {"learners": len(pairs), "pre": _mean([100 * p for p, _q in pairs]),
                    "post": _mean([100 * q for _p, q in pairs]),
                    "gain": _mean([100 * (q - p) for p, q in pairs])}
    return {"quizzes": quizzes, "gain": gain}


def results_for(subj: Subject) -> list[EvaluationResult]:
    query = sa.select(EvaluationResult).order_by(EvaluationResult.measured_on,
                                                 EvaluationResult.id)
    if subj.course_id is not None:
        query = query.where(EvaluationResult.course_id == subj.course_id)
    else:
        query = query.where(EvaluationResult.training_id == subj.training_id)
    return list(get_session().scalars(query))


def report(viewer: Viewer, subj: Subject) -> dict[str, Any]:
    """Everything the course/training report shows, for ``viewer``'s population."""
    check_subject(viewer, subj)
    rows = _visible_rows(viewer, subj)
    done = {lvl: [r for r in rows if r.level == lvl and r.status == DONE]
            for lvl in (REACTION, BEHAVIOUR)}
    level3 = [r for r in rows if r.level == BEHAVIOUR]
    people = {u.id: u for u in get_session().scalars(sa.select(User).where(
        User.id.in_({r.user_id for r in rows} | {r.respondent_id for r in rows
                                                  if r.respondent_id})))} if viewer.names else {}
    return {
        "subject": subj,
        "completions": sum(1 for r in rows if r.level == REACTION),
        "reaction": _question_stats(REACTION, done[REACTION]),
        "reaction_n": len(done[REACTION]),
        "reaction_comments": [r for r in done[REACTION] if r.comment],
        "learning": learning(viewer, subj),
        "behaviour": _question_stats(BEHAVIOUR, done[BEHAVIOUR]),
        "behaviour_n": len(done[BEHAVIOUR]),
        "behaviour_rows": done[BEHAVIOUR],
        "behaviour_status": {s: sum(1 for r in level3 if r.status == s)
                             for s in (SCHEDULED, OPEN, NO_SUPERVISOR, DONE)},
        "results": results_for(subj),
        "people": people,
    }


# --- level 4 --------------------------------------------------------------------------------

def add_result(viewer: Viewer, subj: Subject, *, indicator: str, value: float,
               measured_on: dt.date, baseline: float | None = None, unit: str = "",
               note: str = "") -> EvaluationResult:
    if not viewer.can_record_results:
        raise Forbidden(_("Only HR records results (level 4)."))
    check_subject(viewer, subj)
    for number in (value, baseline):
        if number is not None and not math.isfinite(number):
            raise ValidationError(_("Enter ordinary numbers."), field="value")
    indicator = " ".join((indicator or "").split())
    if not indicator:
        raise ValidationError(_("Name the indicator."), field="indicator")
    position = viewer.user.position
    row = EvaluationResult(
        course_id=subj.course_id, training_id=subj.training_id, indicator=indicator[:300],
        unit=" ".join((unit or "").split())[:50], baseline=baseline, value=float(value),
        measured_on=measured_on, note=(note or "").strip()[:5000],
        org_unit_id=position.org_unit_id if position is not None else None,
        created_by_id=viewer.user.id)
    session = get_session()
    session.add(row)
    session.flush()
    return row


def delete_result(viewer: Viewer, result_id: int) -> Subject:
    row = get_session().get(EvaluationResult, result_id)
    if row is None:
        raise NotFound(_("No such result."))
    if not viewer.can_record_results:
        raise Forbidden(_("Only HR records results (level 4)."))
    if viewer.scope is not None and row.created_by_id != viewer.user.id:
        unit = get_session().get(OrgUnit, row.org_unit_id) if row.org_unit_id else None
        if unit is None or not viewer.scope.covers(unit.path):
            raise Forbidden(_("This result was recorded outside your scope."))
    subj = subject("course" if row.course_id is not None else "training",
                   int(row.course_id if row.course_id is not None else row.training_id or 0))
    check_subject(viewer, subj)
    get_session().delete(row)
    get_session().flush()
    return subj
