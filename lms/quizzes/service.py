"""Quiz delivery and grading: attempts are laid out, timed and graded on the server.

The quiz definition (with its key) stays in the course version; the browser only ever gets
:func:`public_questions` of an attempt.

Answers are saved as the learner gives them (:func:`save_answers`, one row per question),
restored into the page on reload (:func:`saved_values`), and, when the time limit ends an
attempt, graded as it stood at the deadline: an attempt sent after its deadline (plus a
short grace for the network) ignores what that late request carries and grades what was
saved in time; an attempt the learner never comes back to is closed the same way
(:func:`close_expired`, run by :mod:`lms.quizzes.expiry`). Saving is not submitting: no
statement is stored for a saved answer.

An attempt is closed exactly once: :func:`_claim` switches ``submitted_at`` from NULL in
one conditional UPDATE, so two submissions racing (two tabs, a double click, the learner
and the closing job) grade and report it once; the loser gets :class:`Conflict`.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.courses.models import CourseVersion, Enrollment
from lms.db import get_session, utcnow
from lms.errors import Conflict, Forbidden, ValidationError
from lms.quizzes.grading import Getter, question_type
from lms.quizzes.models import QuizAttempt, QuizSavedAnswer

#: Submissions this long after the deadline still count (slow phones, slow networks).
GRACE = dt.timedelta(seconds=30)

#: Limits of one save (a page sends the questions it changed; these are generous).
MAX_SAVE_BYTES = 256 * 1024
MAX_SAVE_QUESTIONS = 200
MAX_FIELDS_PER_QUESTION = 50
MAX_VALUES_PER_FIELD = 50
MAX_VALUE_LENGTH = 500
#: The largest change counter accepted (JavaScript's safe integers).
MAX_REV = 2**53 - 1
_SUFFIX = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def attempts_for(enrollment: Enrollment, quiz_id: str) -> list[QuizAttempt]:
    """The learner's attempts at a quiz, oldest first."""
    return list(
        get_session().scalars(
            sa.select(QuizAttempt)
            .where(QuizAttempt.enrollment_id == enrollment.id, QuizAttempt.quiz_id == quiz_id)
            .order_by(QuizAttempt.number)
        )
    )


def open_attempt(attempts: list[QuizAttempt], now: dt.datetime | None = None) -> QuizAttempt | None:
    """The unfinished attempt that can still be answered, if any."""
    now = now or utcnow()
    for attempt in attempts:
        if attempt.submitted_at is None and (
            attempt.deadline is None or now <= attempt.deadline + GRACE
        ):
            return attempt
    return None


def attempts_left(quiz: dict[str, Any], attempts: list[QuizAttempt]) -> int | None:
    """Attempts still allowed (None: unlimited)."""
    if not quiz["attempts"]:
        return None
    return max(0, quiz["attempts"] - len(attempts))


def start_attempt(
    user_id: int, enrollment: Enrollment, version: CourseVersion, quiz: dict[str, Any],
    now: dt.datetime | None = None,
) -> tuple[QuizAttempt, bool]:
    """The open attempt, or a new one laid out for this learner: ``(attempt, created)``.

    The caller closes expired attempts first (:func:`close_expired`, with their
    statements); one left open here is closed without them, so a new attempt can start.
    """
    attempts = attempts_for(enrollment, quiz["id"])
    now = now or utcnow()
    current = open_attempt(attempts, now)
    if current is not None:
        return current, False
    for attempt in attempts:
        if attempt.submitted_at is None:
            try:
                close_expired(attempt, quiz, now)
            except Conflict:
                get_session().refresh(attempt)
    if any(a.passed for a in attempts):
        raise Conflict(_l("You have passed this quiz already."))
    left = attempts_left(quiz, attempts)
    if left == 0:
        raise Forbidden(_l("You have used all the attempts this quiz allows."))
    rng = random.Random()
    order = [q["id"] for q in quiz["questions"]]
    if quiz["shuffle_questions"]:
        rng.shuffle(order)
    layouts = {
        q["id"]: question_type(q["type"]).layout(q, rng, quiz["shuffle_choices"])
        for q in quiz["questions"]
    }
    deadline = None
    if quiz.get("time_limit_minutes"):
        deadline = now + dt.timedelta(minutes=quiz["time_limit_minutes"])
    attempt = QuizAttempt(
        uuid=str(uuid.uuid4()),
        user_id=user_id,
        course_id=enrollment.course_id,
        course_version_id=version.id,
        enrollment_id=enrollment.id,
        quiz_id=quiz["id"],
        number=len(attempts) + 1,
        layout={"order": order, "questions": layouts},
        started_at=now,
        deadline=deadline,
    )
    get_session().add(attempt)
    get_session().flush()
    return attempt, True


def public_questions(attempt: QuizAttempt, quiz: dict[str, Any]) -> list[dict[str, Any]]:
    """The questions as the page shows them: prompts and options, in attempt order, no key."""
    by_id = {q["id"]: q for q in quiz["questions"]}
    out = []
    for number, qid in enumerate(attempt.layout["order"], start=1):
        q = by_id.get(qid)
        if q is None:
            continue
        public = question_type(q["type"]).public(q, attempt.layout["questions"].get(qid, {}))
        public["number"] = number
        out.append(public)
    return out


@dataclass
class GradedQuestion:
    question: dict[str, Any]
    response: Any
    fraction: float


def expired(attempt: QuizAttempt, now: dt.datetime | None = None) -> bool:
    """Whether the time limit (plus :data:`GRACE`) of an open attempt has passed."""
    return attempt.deadline is not None and (now or utcnow()) > attempt.deadline + GRACE


def submit_attempt(
    attempt: QuizAttempt, quiz: dict[str, Any], get: Getter, now: dt.datetime | None = None
) -> list[GradedQuestion]:
    """Grade the answers sent for ``attempt`` and close it.

    After the deadline (plus :data:`GRACE`) the answers sent are ignored: what was saved
    before the deadline is graded instead (:func:`close_expired`).
    """
    now = now or utcnow()
    if expired(attempt, now):
        return close_expired(attempt, quiz, now)
    if attempt.submitted_at is not None:
        raise Conflict(_l("This attempt was submitted already."))
    responses = _responses(attempt, quiz, get)
    _claim(attempt, now)
    return _grade(attempt, quiz, responses, now, timed_out=False)


def close_expired(
    attempt: QuizAttempt, quiz: dict[str, Any], now: dt.datetime | None = None
) -> list[GradedQuestion]:
    """Close an attempt whose time ran out, grading the answers saved before then.

    The attempt is submitted as of its deadline (so its duration is the time limit) and
    marked ``timed_out``; it passes when what was saved reaches the pass mark.
    """
    if attempt.submitted_at is not None:
        raise Conflict(_l("This attempt was submitted already."))
    now = now or utcnow()
    when = min(now, attempt.deadline) if attempt.deadline is not None else now
    responses = _responses(attempt, quiz, saved_getter(attempt), only_given=True)
    _claim(attempt, when)
    return _grade(attempt, quiz, responses, when, timed_out=True)


def _responses(attempt: QuizAttempt, quiz: dict[str, Any], get: Getter,
               only_given: bool = False) -> dict[str, Any]:
    """The responses in terms of item ids; with ``only_given``, questions without any
    value are left out (not reached), as a form would not send them."""
    responses: dict[str, Any] = {}
    for q in quiz["questions"]:
        layout = attempt.layout["questions"].get(q["id"], {})
        qt = question_type(q["type"])
        if only_given:
            names = qt.fields(q, layout) or [f"q-{q['id']}"]
            if not any(get(name) for name in names):
                continue
        responses[q["id"]] = qt.parse(q, layout, get)
    return responses


def _claim(attempt: QuizAttempt, when: dt.datetime) -> None:
    """Mark ``attempt`` submitted unless someone else did: one conditional UPDATE, so of
    two racing submissions exactly one goes on to grade and report."""
    session = get_session()
    claimed = session.execute(  # type: ignore[attr-defined]
        sa.update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None))
        .values(submitted_at=when)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        session.refresh(attempt)
        raise Conflict(_l("This attempt was submitted already."))


# --- saved answers -------------------------------------------------------------------------


def _allowed(q: dict[str, Any], layout: dict[str, Any], name: str) -> bool:
    names = question_type(q["type"]).fields(q, layout)
    if names is not None:
        return name in names
    prefix = f"q-{q['id']}"
    return name == prefix or (name.startswith(prefix + "-")
                              and bool(_SUFFIX.match(name[len(prefix) + 1:])))


def _clean_values(values: Any) -> list[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or len(values) > MAX_VALUES_PER_FIELD:
        raise ValidationError(_l("An answer could not be read."), field="answers")
    out = []
    for value in values:
        if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
            raise ValidationError(_l("An answer is too long (at most %(n)d characters).",
                                     n=MAX_VALUE_LENGTH), field="answers")
        if "\x00" in value:
            raise ValidationError(_l("An answer contains a character that is not allowed."),
                                  field="answers")
        out.append(value)
    return out


def save_answers(attempt: QuizAttempt, quiz: dict[str, Any], answers: Any, rev: Any,
                 now: dt.datetime | None = None) -> dt.datetime:
    """Save what the learner has answered so far: ``answers`` is ``{question id: {field
    name: [values]}}`` for the questions that changed (an empty dict clears a question).

    Refused with :class:`Conflict` once the attempt is submitted or its time is up, and
    with :class:`ValidationError` for anything that is not a field of the attempt's
    questions. ``rev`` is the page's change counter: a save older than the one stored for
    a question is ignored. Returns the time of the save. Flushes.
    """
    now = now or utcnow()
    if attempt.submitted_at is not None:
        raise Conflict(_l("This attempt was submitted already."))
    if expired(attempt, now):
        raise Conflict(_l("Time is up: answers can no longer be changed."))
    if isinstance(rev, bool) or not isinstance(rev, int) or not 0 <= rev <= MAX_REV:
        raise ValidationError(_l("An answer could not be read."), field="rev")
    if not isinstance(answers, dict) or len(answers) > MAX_SAVE_QUESTIONS:
        raise ValidationError(_l("An answer could not be read."), field="answers")
    by_id = {q["id"]: q for q in quiz["questions"]}
    rows = []
    for qid, fields in answers.items():
        q = by_id.get(qid) if isinstance(qid, str) else None
        if q is None or qid not in attempt.layout["questions"]:
            raise ValidationError(_l("This question is not part of the attempt."),
                                  field="answers")
        if not isinstance(fields, dict) or len(fields) > MAX_FIELDS_PER_QUESTION:
            raise ValidationError(_l("An answer could not be read."), field="answers")
        layout = attempt.layout["questions"].get(qid, {})
        clean: dict[str, list[str]] = {}
        for name, values in fields.items():
            if not isinstance(name, str) or not _allowed(q, layout, name):
                raise ValidationError(_l("An answer could not be read."), field="answers")
            clean[name] = _clean_values(values)
        rows.append({"attempt_id": attempt.id, "question_id": qid, "values": clean,
                     "rev": rev, "saved_at": now})
    if rows:
        _upsert(rows)
    return now


def _upsert(rows: list[dict[str, Any]]) -> None:
    from sqlalchemy.dialects import postgresql, sqlite

    session = get_session()
    insert: Any = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
                   else sqlite.insert)
    table: Any = QuizSavedAnswer.__table__
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["attempt_id", "question_id"],
        set_={"values": stmt.excluded["values"], "rev": stmt.excluded.rev,
              "saved_at": stmt.excluded.saved_at},
        where=table.c.rev <= stmt.excluded.rev)
    session.execute(stmt, rows)
    session.flush()


def saved_values(attempt: QuizAttempt) -> dict[str, list[str]]:
    """Every saved field of the attempt: ``{field name: [values]}`` (for the page)."""
    out: dict[str, list[str]] = {}
    for values in get_session().scalars(
            sa.select(QuizSavedAnswer.values).where(QuizSavedAnswer.attempt_id == attempt.id)):
        for name, given in (values or {}).items():
            out[name] = [str(v) for v in given]
    return out


def saved_getter(attempt: QuizAttempt) -> Getter:
    """A form getter over the saved answers, for grading them."""
    values = saved_values(attempt)
    return lambda name: list(values.get(name, []))


def last_saved(attempt: QuizAttempt) -> dt.datetime | None:
    return get_session().scalar(sa.select(sa.func.max(QuizSavedAnswer.saved_at))
                                .where(QuizSavedAnswer.attempt_id == attempt.id))


def _grade(
    attempt: QuizAttempt,
    quiz: dict[str, Any],
    responses: dict[str, Any],
    now: dt.datetime,
    timed_out: bool,
) -> list[GradedQuestion]:
    graded = []
    raw = maximum = 0.0
    for q in quiz["questions"]:
        response = responses.get(q["id"])
        fraction = question_type(q["type"]).grade(q, response) if q["id"] in responses else 0.0
        graded.append(GradedQuestion(q, response, fraction))
        raw += fraction * q["points"]
        maximum += q["points"]
    attempt.responses = responses
    attempt.results = {g.question["id"]: g.fraction for g in graded}
    attempt.score_raw = round(raw, 4)
    attempt.score_max = round(maximum, 4)
    attempt.scaled = round(raw / maximum, 4) if maximum else 0.0
    attempt.passed = attempt.scaled * 100 >= quiz["pass_mark"] - 1e-9
    attempt.timed_out = timed_out
    attempt.submitted_at = now
    get_session().flush()
    return graded


def review(attempt: QuizAttempt, quiz: dict[str, Any]) -> list[dict[str, Any]]:
    """What the learner may see after an attempt: their answer, right or wrong, feedback.

    The correct answers are NOT part of it (the key never leaves the server); feedback
    written by the course author is.
    """
    by_id = {q["id"]: q for q in quiz["questions"]}
    items = []
    for number, qid in enumerate(attempt.layout["order"], start=1):
        q = by_id.get(qid)
        if q is None:
            continue
        response = (attempt.responses or {}).get(qid)
        fraction = (attempt.results or {}).get(qid, 0.0)
        qt = question_type(q["type"])
        feedback = q.get("feedback") or {}
        text = feedback.get("correct") if fraction >= 1 else feedback.get("incorrect")
        choice_feedback = []
        if q["type"] in ("single", "multiple"):
            chosen = response if isinstance(response, list) else [response]
            choice_feedback = [
                c["feedback"] for c in q["choices"] if c["id"] in chosen and c.get("feedback")
            ]
        items.append(
            {
                "number": number,
                "prompt": q["prompt"],
                "points": q["points"],
                "answer": qt.describe(q, response) if response not in (None, "", [], {}) else "",
                "fraction": fraction,
                "feedback": text,
                "choice_feedback": choice_feedback,
            }
        )
    return items
