"""Quiz delivery and grading: attempts are laid out, timed and graded on the server.

The quiz definition (with its key) stays in the course version; the browser only ever gets
:func:`public_questions` of an attempt. A time limit is enforced here: an attempt sent
after its deadline (plus a short grace for the network) is graded as if nothing had been
answered.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.courses.models import CourseVersion, Enrollment
from lms.db import get_session, utcnow
from lms.errors import Conflict, Forbidden
from lms.quizzes.grading import Getter, question_type
from lms.quizzes.models import QuizAttempt

#: Submissions this long after the deadline still count (slow phones, slow networks).
GRACE = dt.timedelta(seconds=30)


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
    user_id: int, enrollment: Enrollment, version: CourseVersion, quiz: dict[str, Any]
) -> tuple[QuizAttempt, bool]:
    """The open attempt, or a new one laid out for this learner: ``(attempt, created)``."""
    attempts = attempts_for(enrollment, quiz["id"])
    now = utcnow()
    current = open_attempt(attempts, now)
    if current is not None:
        return current, False
    _close_expired(attempts, quiz, now)
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


def _close_expired(attempts: list[QuizAttempt], quiz: dict[str, Any], now: dt.datetime) -> None:
    for attempt in attempts:
        if attempt.submitted_at is None:
            _grade(attempt, quiz, {}, now, timed_out=True)


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


def submit_attempt(
    attempt: QuizAttempt, quiz: dict[str, Any], get: Getter, now: dt.datetime | None = None
) -> list[GradedQuestion]:
    """Grade the answers sent for ``attempt`` and close it.

    After the deadline (plus :data:`GRACE`) the answers are ignored and the attempt fails.
    """
    if attempt.submitted_at is not None:
        raise Conflict(_l("This attempt was submitted already."))
    now = now or utcnow()
    late = attempt.deadline is not None and now > attempt.deadline + GRACE
    responses: dict[str, Any] = {}
    if not late:
        for q in quiz["questions"]:
            layout = attempt.layout["questions"].get(q["id"], {})
            responses[q["id"]] = question_type(q["type"]).parse(q, layout, get)
    return _grade(attempt, quiz, responses, now, timed_out=late)


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
    attempt.passed = (not timed_out) and attempt.scaled * 100 >= quiz["pass_mark"] - 1e-9
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
