"""Demo quiz attempts: demo employees take the sample courses' final quizzes, so that
trainers' results and item analysis have something to show.

Every attempt goes the way a learner's does: enrolment, lessons opened and completed,
the attempt started, answers saved as they are given, the attempt submitted (or, for a
few, left to run out of time and closed by the server with what was saved), each step's
statements stored through the LRS and dated when it happened. Completions, certificates,
JP and the item analysis are then derived from those statements like any others.

Who answers what is drawn from a seeded random generator: each learner has an ability,
each question a difficulty (a one-parameter logistic model), so scores spread the way a
real group's do, some learners fail and try again, some stop before the quiz. Loading
again adds nothing (a course that has attempts already is left alone).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

import sqlalchemy as sa

from lms.db import get_session, utcnow
from lms.people.models import User
from lms.quizzes import expiry, service
from lms.quizzes.models import QuizAttempt

#: The sample courses the demo trainer looks after (see lms.authoring.demo), plus one more.
DEMO_COURSES = ("komunikasi-efektif", "pelayanan-publik-prima", "literasi-digital-spbe",
                "keuangan-anggaran-daerah")
#: Accounts with a part of their own in the demo: they take no quiz here.
ROLE_ACCOUNTS = ("admin@demo.lentera.local", "hr@demo.lentera.local",
                 "trainer@demo.lentera.local", "learner@demo.lentera.local")
LEARNERS_PER_COURSE = 16


def load_demo() -> str:
    from lms.courses.models import Course

    session = get_session()
    learners = list(session.scalars(
        sa.select(User).where(User.nip.is_not(None), User.active.is_(True),
                              User.email.like("%@demo.lentera.local"),
                              User.email.not_in(ROLE_ACCOUNTS))
        .order_by(User.id)))
    if not learners:
        return ""
    counts = {"attempts": 0, "passed": 0, "courses": 0}
    for slug in DEMO_COURSES:
        course = session.scalar(sa.select(Course).where(Course.slug == slug,
                                                        Course.published.is_(True)))
        if course is None:
            continue
        if session.scalar(sa.select(QuizAttempt.id).where(QuizAttempt.course_id == course.id)
                          .limit(1)) is not None:
            continue
        made, passed = _course_attempts(course, learners, random.Random(f"demo-quiz/{slug}"))
        counts["attempts"] += made
        counts["passed"] += passed
        counts["courses"] += 1
    if not counts["courses"]:
        return "Quizzes: demo attempts present already."
    return (f"Quizzes: {counts['attempts']} demo attempts in {counts['courses']} course(s), "
            f"{counts['passed']} passed.")


def _window(rng: random.Random) -> dt.datetime:
    """A moment in the last months of this year (never before 2 January)."""
    today = utcnow()
    start = max(today - dt.timedelta(days=150),
                dt.datetime(today.year, 1, 2, 1, tzinfo=dt.UTC))
    end = today - dt.timedelta(days=2)
    if end <= start:
        end = today - dt.timedelta(hours=6)
        start = min(start, end - dt.timedelta(hours=1))
    moment = start + (end - start) * rng.random()
    # Office hours in western Indonesia (UTC+7): 08:00-15:00 local.
    return moment.replace(hour=rng.randint(1, 8), minute=rng.randint(0, 59), second=0,
                          microsecond=0)


def _course_attempts(course: Any, learners: list[User], rng: random.Random) -> tuple[int, int]:
    from lms.courses import service as courses
    from lms.quizzes.journey import QuizJourney as Journey

    chosen = rng.sample(learners, min(LEARNERS_PER_COURSE, len(learners)))
    made = passed = 0
    for user in chosen:
        enrollment, created = courses.enrol(user, course)
        if not created:
            continue
        version = courses.pinned_version(enrollment)
        definition = courses.definition_of(version)
        modules = definition["modules"]
        quiz_module = next((m for m in modules if m["kind"] == "quiz"), None)
        if quiz_module is None:
            continue
        when = _window(rng)
        enrollment.enrolled_at = when
        journey = Journey(user, course, version, enrollment, at=when)
        journey.enrolled()
        journey.launched(then=modules[0] if modules[0]["kind"] != "quiz" else None)
        for module in modules:
            if module["kind"] == "quiz":
                continue
            when += dt.timedelta(minutes=rng.randint(15, 70))
            Journey(user, course, version, enrollment, at=when).module_completed(module)
        if rng.random() < 0.12:
            continue  # stopped before the quiz
        ability = rng.gauss(0.35, 1.0)
        quiz = quiz_module["quiz"]
        limit = quiz["attempts"] or 3
        for number in range(limit):
            when += dt.timedelta(days=rng.randint(0, 3), minutes=rng.randint(5, 90))
            attempt = _attempt(user, course, version, enrollment, quiz_module, ability, when,
                               rng, run_out=bool(quiz.get("time_limit_minutes"))
                               and rng.random() < 0.05)
            made += 1
            if attempt.passed:
                passed += 1
                break
            if rng.random() < 0.3:
                break  # gave up for now
            ability += rng.uniform(0.3, 0.9)  # read the feedback, tries again
            when += dt.timedelta(days=rng.randint(1, 6))
            if number + 1 >= limit:
                break
    get_session().flush()
    return made, passed


def _attempt(user: User, course: Any, version: Any, enrollment: Any, module: dict[str, Any],
             ability: float, when: dt.datetime, rng: random.Random, run_out: bool) -> QuizAttempt:
    """One attempt, started, answered (saved as it goes) and submitted at ``when``
    onwards; with ``run_out``, left unsubmitted until the server closes it."""
    from lms.quizzes.journey import QuizJourney as Journey

    quiz = module["quiz"]
    Journey(user, course, version, enrollment, at=when).quiz_attempted(module)
    attempt, _created = service.start_attempt(user.id, enrollment, version, quiz, now=when)
    form: dict[str, list[str]] = {}
    moment = when
    questions = [q for qid in attempt.layout["order"] for q in quiz["questions"]
                 if q["id"] == qid]
    # Within the time limit (most of it at most), unless this attempt runs out of time.
    longest = 110
    if quiz.get("time_limit_minutes"):
        longest = max(21, min(110, int(quiz["time_limit_minutes"] * 60 * 0.8)
                              // max(1, len(questions))))
    if run_out:
        questions = questions[: max(1, len(questions) * 2 // 3)]
    for index, q in enumerate(questions):
        moment += dt.timedelta(seconds=rng.randint(20, longest))
        difficulty = -1.2 + 2.4 * (sum(map(ord, q["id"])) % 7) / 6  # stable per question
        right = rng.random() < 1 / (1 + math.exp(-1.7 * (ability - difficulty)))
        fields = answer_fields(q, attempt.layout["questions"][q["id"]], right, rng)
        form.update(fields)
        service.save_answers(attempt, quiz, {q["id"]: fields}, index + 1, now=moment)
    if run_out and attempt.deadline is not None:
        expiry.close_and_report(attempt, now=attempt.deadline + service.GRACE
                                + dt.timedelta(minutes=1))
        return attempt
    moment += dt.timedelta(seconds=rng.randint(10, 60))
    graded = service.submit_attempt(attempt, quiz, lambda name: list(form.get(name, [])),
                                    now=moment)
    Journey(user, course, version, enrollment, at=moment).quiz_submitted(
        {**module, "quiz": quiz}, attempt, graded)
    return attempt


def answer_fields(q: dict[str, Any], layout: dict[str, Any], right: bool,
                  rng: random.Random) -> dict[str, list[str]]:
    """Form fields answering ``q`` right, or wrong the way learners tend to be wrong (the
    first distractor more often than the others, one pair swapped, one option too many
    or too few)."""
    name = f"q-{q['id']}"
    kind = q["type"]
    if kind in ("single", "multiple"):
        tokens = {cid: tok for tok, cid in layout["tokens"]}
        correct = [c["id"] for c in q["choices"] if c["correct"]]
        wrong = [c["id"] for c in q["choices"] if not c["correct"]]
        if kind == "single":
            pick = correct[0] if right or not wrong else (
                wrong[0] if rng.random() < 0.6 else rng.choice(wrong))
            return {name: [tokens[pick]]}
        chosen = list(correct)
        if not right:
            if wrong and (rng.random() < 0.6 or len(chosen) < 2):
                chosen.append(wrong[0] if rng.random() < 0.6 else rng.choice(wrong))
            else:
                chosen.remove(rng.choice(chosen))
        return {name: [tokens[c] for c in chosen]}
    if kind == "true_false":
        return {name: ["true" if q["answer"] == right else "false"]}
    if kind == "fill_in":
        answer = q["answers"][0]
        return {name: [answer if right else (answer[:-1] if len(answer) > 3 else "-")]}
    if kind == "numeric":
        value = q["answer"] if q.get("answer") is not None else (q["min"] + q["max"]) / 2
        if not right:
            spread = max(abs(value) * 0.2, (q.get("tolerance") or 0) + 1, 1)
            value = value + spread * rng.choice((-1, 1))
        return {name: [f"{value:g}".replace(".", ",")]}
    if kind == "matching":
        targets = {tid: tok for tok, tid in layout["targets"]}
        pairs = [sid for _tok, sid in layout["sources"]]
        mapping = {sid: sid for sid in pairs}
        if not right and len(pairs) > 1:
            a, b = rng.sample(pairs, 2)
            mapping[a], mapping[b] = mapping[b], mapping[a]
        return {f"{name}-{tok}": [targets[mapping[sid]]] for tok, sid in layout["sources"]}
    if kind == "ordering":
        order = [item["id"] for item in q["items"]]
        if not right and len(order) > 1:
            i = rng.randrange(len(order) - 1)
            order[i], order[i + 1] = order[i + 1], order[i]
        return {f"{name}-{tok}": [str(order.index(iid) + 1)] for tok, iid in layout["tokens"]}
    return {}
