"""Closing attempts whose time ran out, with their saved answers and their statements.

A timed attempt the learner leaves (a closed laptop, a dropped connection) must still end
at its deadline, graded on what was saved by then, and be reported like any other: one
``answered`` per question, ``passed`` or ``failed``, ``progressed`` and, when the quiz
completes the course, ``completed``, all dated at the deadline. The learner's own pages
close such an attempt when they next open the quiz; :func:`close_due` closes the rest
(``lms quizzes close-expired`` from cron, or the ``lms.quizzes.close_expired`` task on the
workers' schedule), and the trainer's results pages close those of their course before
counting.
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from lms.courses.models import CourseVersion, Enrollment
from lms.db import get_session, utcnow
from lms.errors import Conflict, NotFound
from lms.people.models import User
from lms.quizzes import service
from lms.quizzes.models import QuizAttempt

log = logging.getLogger(__name__)


def due_ids(now: dt.datetime | None = None, limit: int = 500,
            course_id: int | None = None) -> list[int]:
    """Ids of open attempts whose deadline (plus the grace) has passed, oldest first."""
    now = now or utcnow()
    query = (sa.select(QuizAttempt.id)
             .where(QuizAttempt.submitted_at.is_(None), QuizAttempt.deadline.is_not(None),
                    QuizAttempt.deadline < now - service.GRACE)
             .order_by(QuizAttempt.deadline).limit(limit))
    if course_id is not None:
        query = query.where(QuizAttempt.course_id == course_id)
    return list(get_session().scalars(query))


def close_and_report(attempt: QuizAttempt, now: dt.datetime | None = None) -> bool:
    """Close ``attempt`` if its time is up (saved answers graded, statements stored, dated
    at the deadline). False when it is not due or someone else closed it first. Flushes;
    the caller commits."""
    from lms.courses import service as courses
    from lms.quizzes.journey import QuizJourney as Journey

    now = now or utcnow()
    if attempt.submitted_at is not None or not service.expired(attempt, now):
        return False
    session = get_session()
    enrollment = session.get(Enrollment, attempt.enrollment_id)
    user = session.get(User, attempt.user_id)
    attempt_version = session.get(CourseVersion, attempt.course_version_id)
    if enrollment is None or user is None or attempt_version is None:
        return False
    quiz_module = courses.find_module(courses.definition_of(attempt_version), attempt.quiz_id)
    version = courses.pinned_version(enrollment)
    try:  # the module as the learner's version names it (they may have moved since)
        module = courses.find_module(courses.definition_of(version), attempt.quiz_id)
    except NotFound:
        module = quiz_module
    quiz = quiz_module["quiz"]
    try:
        graded = service.close_expired(attempt, quiz, now)
    except Conflict:
        return False
    Journey(user, enrollment.course, version, enrollment, at=attempt.submitted_at
            ).quiz_submitted({**module, "quiz": quiz}, attempt, graded)
    return True


def close_due(now: dt.datetime | None = None, limit: int = 500,
              course_id: int | None = None) -> int:
    """Close every due attempt (at most ``limit``), committing after each one, so one
    that fails does not hold back the others. Returns how many were closed. For the CLI,
    the task and the pages that count results (it commits: run it before reading)."""
    session = get_session()
    closed = 0
    for attempt_id in due_ids(now, limit, course_id):
        attempt = session.get(QuizAttempt, attempt_id)
        if attempt is None:
            continue
        try:
            done = close_and_report(attempt, now)
            session.commit()
        except Exception:  # the next run tries again; the others go on
            session.rollback()
            log.exception("closing expired quiz attempt %s failed", attempt_id)
            continue
        closed += done
    return closed
